"""What a branch changed relative to a base ref: real git repositories built in a temporary folder."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from routegate.errors import InputError
from routegate.project.changes import Change, ChangeSet, find_changes

ODD_NAME = 'src/new file é "quoted"\tname.txt'
RENAMED_TEXT = "".join(f"line {n} of a file that keeps most of its content when it moves\n" for n in range(20))


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` with a throwaway identity and return its output."""
    result = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def write(repo: Path, path: str, text: str) -> None:
    """Write ``text`` to ``repo / path``, making folders as needed."""
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def commit_all(repo: Path, message: str) -> str:
    """Commit every change in ``repo`` and return the new commit's sha."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def new_repo(path: Path) -> Path:
    """An empty repository at ``path`` whose first branch is main."""
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    return path


@pytest.fixture(scope="module")
def branch(tmp_path_factory: pytest.TempPathFactory) -> tuple[ChangeSet, str, str]:
    """A feature branch with every kind of change, and main moved on after the branch point.

    Returns the change set against main, the branch point's sha and the feature branch's sha.
    """
    repo = new_repo(tmp_path_factory.mktemp("branch") / "repo")
    write(repo, ".gitignore", "*.log\n")
    for name in ("keep.txt", "edit.txt", "gone.txt", "dirty.txt", "policies/a.yaml"):
        write(repo, name, f"{name}\n")
    write(repo, "legacy/old name.txt", RENAMED_TEXT)
    branch_point = commit_all(repo, "start")
    write(repo, "main_only.txt", "added on main after the branch point\n")
    write(repo, "keep.txt", "edited on main after the branch point\n")
    commit_all(repo, "main moves on")
    git(repo, "checkout", "-q", "-b", "feature", branch_point)
    write(repo, "edit.txt", "edited on the branch\n")
    write(repo, ODD_NAME, "odd\n")
    write(repo, "src/committed.txt", "new\n")
    (repo / "gone.txt").unlink()
    commit_all(repo, "edit, add, delete")
    (repo / "docs").mkdir()
    git(repo, "mv", "legacy/old name.txt", "docs/new name.txt")
    write(repo, "docs/new name.txt", RENAMED_TEXT + "one more line\n")
    head = commit_all(repo, "move")
    write(repo, "dirty.txt", "edited, not committed\n")
    write(repo, "staged.txt", "added to the index, not committed\n")
    git(repo, "add", "staged.txt")
    write(repo, "untracked.txt", "never added\n")
    write(repo, "debug.log", "ignored\n")
    write(repo, "policies/build.log", "ignored\n")
    return find_changes("main", repo=repo / "policies"), branch_point, head


def test_every_kind_of_change_is_listed_once_sorted_by_path(branch: tuple[ChangeSet, str, str]) -> None:
    changes, _, _ = branch
    assert changes.changes == (
        Change("modified", "dirty.txt"),
        Change("renamed", "docs/new name.txt", "legacy/old name.txt"),
        Change("modified", "edit.txt"),
        Change("deleted", "gone.txt"),
        Change("added", "src/committed.txt"),
        Change("added", ODD_NAME),
        Change("added", "staged.txt"),
        Change("added", "untracked.txt"),
    )


def test_changes_count_from_the_merge_base_not_the_base_tip(branch: tuple[ChangeSet, str, str]) -> None:
    changes, branch_point, head = branch
    assert (changes.merge_base, changes.head, changes.base_ref) == (branch_point, head, "main")
    assert len(changes.head) == 40
    assert not changes.touched("main_only.txt")
    assert not changes.touched("keep.txt")


def test_the_repo_is_the_top_level_even_from_a_subfolder(branch: tuple[ChangeSet, str, str]) -> None:
    changes, _, _ = branch
    assert changes.repo.name == "repo"
    assert (changes.repo / ".git").is_dir()


def test_ignored_files_are_not_changes(branch: tuple[ChangeSet, str, str]) -> None:
    changes, _, _ = branch
    assert changes.change_of("debug.log") is None
    assert not changes.touched("policies")


def test_touched_matches_files_and_folders_by_whole_names(branch: tuple[ChangeSet, str, str]) -> None:
    changes, _, _ = branch
    assert changes.touched("src")
    assert changes.touched("src/")
    assert changes.touched("./src/committed.txt")
    assert changes.touched("docs")
    assert changes.touched("legacy")  # the old path of a rename
    assert changes.touched("gone.txt")
    assert changes.touched(".")
    assert not changes.touched("sr")
    assert not changes.touched("src/committed")
    assert not changes.touched("policies/a.yaml")


def test_change_of_finds_a_file_by_its_path_or_its_old_path(branch: tuple[ChangeSet, str, str]) -> None:
    changes, _, _ = branch
    renamed = Change("renamed", "docs/new name.txt", "legacy/old name.txt")
    assert changes.change_of("docs/new name.txt") == renamed
    assert changes.change_of("legacy/old name.txt") == renamed
    assert changes.change_of("gone.txt") == Change("deleted", "gone.txt")
    assert changes.change_of("keep.txt") is None
    assert changes.change_of("docs") is None


def test_no_changes_on_the_base_itself_and_the_cwd_is_the_default_repo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = new_repo(tmp_path / "repo")
    write(repo, "sub/a.txt", "a\n")
    sha = commit_all(repo, "start")
    monkeypatch.chdir(repo / "sub")
    changes = find_changes("main")
    assert changes == ChangeSet(repo.resolve(), "main", sha, sha, ())
    assert not changes.touched(".")


def test_a_file_untracked_after_git_rm_cached_is_modified(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    write(repo, "a.txt", "a\n")
    commit_all(repo, "start")
    git(repo, "checkout", "-q", "-b", "feature")
    git(repo, "rm", "-q", "--cached", "a.txt")
    assert find_changes("main", repo=repo).changes == (Change("modified", "a.txt"),)


def test_an_unknown_base_ref_is_named_with_the_fetch_to_run(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    write(repo, "a.txt", "a\n")
    commit_all(repo, "start")
    with pytest.raises(InputError) as no_remote:
        find_changes("origin/release-1", repo=repo)
    assert "unknown git ref 'origin/release-1'" in str(no_remote.value)
    assert "git fetch origin release-1" in str(no_remote.value)
    assert "shallow" not in str(no_remote.value)
    git(repo, "remote", "add", "upstream", "https://example.org/repo.git")
    with pytest.raises(InputError, match="git fetch upstream release-1"):
        find_changes("upstream/release-1", repo=repo)
    with pytest.raises(InputError, match="git fetch origin feature/x"):
        find_changes("feature/x", repo=repo)
    with pytest.raises(InputError) as local:
        find_changes("develop", repo=repo)
    assert "'develop'" in str(local.value)
    assert "git fetch origin develop" in str(local.value)
    with pytest.raises(InputError, match="unknown git ref '--output=x'"):
        find_changes("--output=x", repo=repo)


def test_a_shallow_clone_without_the_merge_base_says_to_fetch_the_history(tmp_path: Path) -> None:
    source = new_repo(tmp_path / "source")
    write(source, "a.txt", "a\n")
    commit_all(source, "start")
    write(source, "main.txt", "main\n")
    commit_all(source, "main moves on")
    git(source, "checkout", "-q", "-b", "feature", "HEAD~1")
    write(source, "feature.txt", "feature\n")
    commit_all(source, "feature")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", "--no-single-branch", "-b", "feature", source.as_uri(), str(clone))
    with pytest.raises(InputError) as missing_base:
        find_changes("origin/main", repo=clone)
    assert "merge base of 'origin/main'" in str(missing_base.value)
    assert "fetch-depth: 0" in str(missing_base.value)
    with pytest.raises(InputError) as missing_ref:
        find_changes("origin/develop", repo=clone)
    assert "git fetch origin develop" in str(missing_ref.value)
    assert "fetch-depth: 0" in str(missing_ref.value)


def test_unrelated_histories_have_no_merge_base(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    write(repo, "a.txt", "a\n")
    commit_all(repo, "start")
    git(repo, "checkout", "-q", "--orphan", "other")
    write(repo, "b.txt", "b\n")
    commit_all(repo, "unrelated")
    with pytest.raises(InputError, match="no common ancestor"):
        find_changes("main", repo=repo)


def test_a_repository_without_commits_is_an_input_error(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    with pytest.raises(InputError, match="no commits yet"):
        find_changes("main", repo=repo)


def test_outside_a_repository_is_an_input_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    with pytest.raises(InputError, match="not inside a git repository"):
        find_changes("main", repo=plain)
    monkeypatch.chdir(plain)
    with pytest.raises(InputError, match="not inside a git repository"):
        find_changes("main")
    with pytest.raises(InputError, match="folder not found"):
        find_changes("main", repo=tmp_path / "missing")


def test_git_missing_from_path_is_an_input_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(InputError, match="git is not installed"):
        find_changes("main", repo=tmp_path)
