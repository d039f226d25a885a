from tests.matrix import Row

ROWS = {
    "home": [Row(audience="staff")],
    "healthz": [Row(audience="public")],
    "readyz": [Row(audience="public")],
}
