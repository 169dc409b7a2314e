"""The portal's pages, one module per page group.

Thin views: `portal_biller` first (404 for a biller the user is not a member
of), then a selector (reads) or a service (the tick-off), then a template.
Bad input is a 400 page that says what was wrong.
"""
