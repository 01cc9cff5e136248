"""The study report: one self-contained HTML file (Jinja2, autoescaped) with images embedded as data URIs."""
