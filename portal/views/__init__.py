"""The portal's pages, one module per page group.

Thin views: `biller_page` first (`portal_biller`: 404 for a biller the user is
not a member of; times shown in the biller's time zone), then a selector
(reads) or a service (the tick-off), then a template.
Bad input is a 400 page that says what was wrong.
"""
