"""Dash Pages: one module per page (register_page, layout, thin callbacks)."""
