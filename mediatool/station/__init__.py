"""The media station (``mediatool serve``): a web application for the reception desk, the burn
desk and QA over the same library as the CLI (design.md, "The station").

Its dependencies are the optional extra ``mediatool[station]``; nothing outside this package
imports it, so the CLI runs without them.

    config.py     the station's TOML file (nodes, site, media, drives, data folder)
    store.py      the job store (SQLAlchemy Core: SQLite in the data folder by default)
    auth.py       accounts (argon2), roles, login rate limit
    i18n.py       English and Brazilian Portuguese (Babel catalogs in i18n/)
    app.py        the ASGI application (Starlette): sessions, CSRF, the desks' routes
    jobs/         context.py (what a job sees), kinds.py (import, build, validate, survey:
                  each one library call), runner.py (worker processes, leases, cancel)
    desks/        reception.py, burn.py, qa.py, history.py, admin.py: thin request handlers
"""
