from tests.matrix import Row

ROWS = {
    "caseload:therapist_home": [Row(audience="staff")],
}
