"""Administration: service areas, clinics, service points, staff accounts and the audit log.

- `geo`: checks of coordinates and GeoJSON boundaries.
- `organisations`: create, edit, deactivate areas, clinics and service points.
- `staff`: staff accounts scoped to one organisation, the set-your-password e-mail.
- `audit_log`: the audit entries an administrator searches.
- `routes` (JSON under /api/admin) and `pages` (/admin) for administrators only.
"""
