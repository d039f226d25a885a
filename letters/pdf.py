"""The letter as a PDF, through WeasyPrint, with the print stylesheet served as a static
file (A4, the clinic's block at the top)."""

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

PRINT_CSS = "css/letter_print.css"


def letter_pdf(context: dict) -> bytes:
    from weasyprint import CSS, HTML  # heavy import: only where a PDF is made

    html = render_to_string("letters/letter_print.html", context)
    stylesheet = finders.find(PRINT_CSS)
    return HTML(string=html).write_pdf(stylesheets=[CSS(filename=stylesheet)])
