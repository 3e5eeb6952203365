"""Official documents (biên bản, quyết định) rendered to PDF from the TOML templates in ``templates/``."""
from services.errors import TemplateError
from services.documents.render import RenderedDocument, load_template, render_pdf, template_version

__all__ = [
    "RenderedDocument", "TemplateError", "load_template", "render_pdf", "template_version",
]
