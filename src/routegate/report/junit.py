"""``junit.xml``: one test case per gate, valid XML whatever text it carries.

Built with ``xml.etree`` (which escapes markup) after removing the characters
XML 1.0 cannot hold at all (control characters, lone surrogates), so a model
answer full of ``\\x00`` or ``]]>`` still yields a well-formed file.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

_INVALID_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: object) -> str:
    """``value`` as text that XML 1.0 can carry."""
    return _INVALID_XML.sub("\ufffd", str(value))


def render_junit(verdict: dict[str, Any]) -> str:
    gates = verdict["gates"]
    failures = sum(1 for g in gates if not g["passed"])
    # A passing inconclusive gate is reported as skipped (JUnit has no "could not tell"), with its reason.
    skipped = sum(1 for g in gates if g["passed"] and g["status"] in ("not gated", "inconclusive"))
    suite = ET.Element(
        "testsuite",
        {
            "name": xml_text(
                f"routegate gate: {verdict['baseline']['policy']['name']} -> {verdict['candidate']['policy']['name']}"
            ),
            "tests": str(len(gates)),
            "failures": str(failures),
            "errors": "0",
            "skipped": str(skipped),
        },
    )
    props = ET.SubElement(suite, "properties")
    for key, value in (
        ("baseline.sha256", verdict["baseline"]["policy"]["sha256"]),
        ("candidate.sha256", verdict["candidate"]["policy"]["sha256"]),
        *((f"suite.{s['name']}.sha256", s["sha256"]) for s in verdict["suites"]),
        ("seed", verdict["seed"]),
    ):
        ET.SubElement(props, "property", {"name": xml_text(key), "value": xml_text(value)})
    for gate in gates:
        case = ET.SubElement(suite, "testcase", {"classname": "routegate.gates", "name": xml_text(gate["name"])})
        if gate["passed"] and gate["status"] == "inconclusive":
            ET.SubElement(case, "skipped", {"message": xml_text(gate["reason"]), "type": "Inconclusive"})
        elif gate.get("skipped"):
            ET.SubElement(case, "skipped", {"message": xml_text(gate["reason"])})
        elif not gate["passed"]:
            failure = ET.SubElement(case, "failure", {"message": xml_text(gate["reason"]), "type": "GateFailed"})
            failure.text = xml_text(f"observed {gate['observed']}, threshold {gate['threshold']}: {gate['reason']}")
        out = ET.SubElement(case, "system-out")
        out.text = xml_text(gate["reason"])
    root = ET.Element("testsuites", {"name": "routegate", "tests": str(len(gates)), "failures": str(failures)})
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
