"""The web UI (issue 5): server-rendered Jinja2 pages with htmx, Chinese first, English second.

Pages call the same services as the API (customers.service/search/timeline, access.queries,
grants.service, users.service, audit.search …), never the tables, and add nothing to the
policy: a page can show only what the API would return to the same person.

How a page is built (conventions for every page module)
------------------------------------------------------
* **Router.** `router = page_router()` (routing.py) in a module under `baomi/web/pages/`, added
  to `ROUTERS` in mount.py. Page routes are `PageRoute`s: kept out of OpenAPI, and their errors
  become pages (errors.py): a missing or ended session → 303 /login?next=<this page> (GETs
  only), an idle-expired one → /session-expired (C4.2.4), 403/404/422 → an error page in the
  viewer's language. htmx requests get `HX-Redirect` instead of a 303.
* **Who is looking.** Depend on `PageViewer` (viewer.py): it stands on `api.deps.CurrentActor`
  (session cookie, idle expiry, CSRF on every unsafe request) and adds the language, the CSRF
  token, the screen-lock check (a locked session only sees /lock) and the MFA-enrolment check
  (a role that needs MFA sees only /account/mfa until enrolled). Use `Conn` and `Ctx` from
  `baomi.api.deps` like the API does: one transaction per request.
* **Render.** `render.page(request, viewer, "x.html", **context)`. It sets the strict CSP
  (templating.PAGE_CSP), the navigation, the CSRF token, the watermark (C4.3.2, on for every
  logged-in page) and the idle lock (C4.2.4). Templates extend `base.html` and fill
  `{% block title %}` and `{% block content %}`. An htmx partial is a template without
  `{% extends %}`, rendered with the same `page()`.
* **Forms.** Every form has `<input type="hidden" name="csrf_token" value="{{ csrf_token }}">`;
  htmx requests carry `X-CSRF-Token` from the page's meta tag (static/baomi.js). GET routes
  change nothing. To show a refusal on the same page, run the service with
  `forms.attempt(conn, lambda: service.x(...))`: it runs in a savepoint, and a BaomiError is
  rolled back and its audit events and effects written, as the unit of work would; then
  render the form again with `outcome.field_errors()` under each input. Let any other
  BaomiError propagate (it becomes an error page).
* **Strings.** Every string a person reads goes through gettext: `{{ _("English text") }}` in
  templates (Jinja2 i18n, newstyle: `_("Hello, %(name)s", name=...)` escapes `name`), `N_()`
  to mark a constant defined in Python and `_(constant)` to show it, `templating.translate(
  locale, "…", **values)` for text built in Python. Never pass a value from the database or
  the user to `_()`: newstyle gettext marks its result safe. After adding strings run
  `make i18n` and translate the new entries in `translations/zh_CN/LC_MESSAGES/messages.po`
  (English needs none: the msgid is the text). Catalogs are compiled in memory at startup
  (i18n.py); tests/web/test_i18n.py fails while a zh_CN entry is missing.
* **Formats.** Filters `datetime`, `date`, `time`, `day`, `number`, `percent`, `currency`
  (CNY by default) format per locale with Babel, in Beijing time. `level_name(code)` shows the
  company's label of a level, `action_name(tag)` a translatable name of an audit action.
* **Safety.** Autoescape is on for every template. No inline `<script>`, no `style="…"`, no
  `on…=` handlers, no `javascript:` URLs (the CSP forbids them and tests/web checks every page);
  put behaviour in `static/baomi.js` (or a new file under static/, loaded with
  `<script src="/static/web/…" defer>`), styling in `static/baomi.css`. Third-party assets are
  vendored under `vendor/` (htmx, axe-core) and served at /static/vendor/; never a CDN.
* **Navigation.** `nav.NAV` lists the main menu with the permission each entry needs; an entry
  shows once a mounted page router serves its path. `nav.mounted(request, path)` tells a
  template whether to link to a page.

Modules: i18n (catalogs, locale choice, formats), templating (environments, CSP), render
(page()), routing (PageRoute, redirects, `next`), viewer (PageViewer), errors (pages for
errors), forms (attempt), nav, labels, charts (server-side SVG), activity (the home page's
counts from the audit log), pending_login (the login form's sealed second step), mount
(install into the app), pages/ (the routes). The screen lock is auth's (auth/screen_lock.py).
"""
