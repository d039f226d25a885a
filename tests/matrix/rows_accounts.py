from tests.matrix import Row

ROWS = {
    "accounts:login": [Row(audience="public")],
    "accounts:logout": [Row(audience="staff", method="post")],
    "accounts:mfa": [Row(audience="public")],
}
