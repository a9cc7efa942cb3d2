"""Dashboard URL patterns, one module per area; docg/dashboard/urls.py joins them."""
