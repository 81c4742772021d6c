"""nslab's web lab: the Django project (config/) and its apps."""
