"""The sandbox kit: what both local desks (`zendesk/sandbox`, `jsm/sandbox`) are built from.

A sandbox desk is a Werkzeug WSGI app over SQLite that answers like the real desk. Everything that
is not about one desk lives here, written once:

- `pipeline.SandboxPipeline` — the request pipeline every API request passes, in order: body size
  limit (the desk's 413), latency, body parsing (bounded depth; malformed JSON is the desk's 400),
  request checkers (`spec=` and `request_checker=`), basic auth, scheduled faults, the rate limiter,
  random faults, the desk's routes, lost answers. Refusals are `KitError`s that the desk turns into
  its own error body (`error_response`, the vendor error-body hook); anything else a handler raises
  is logged and answered 500 in that shape too — never an HTML page. `/sandbox/*` (the request log)
  sits behind the same auth.
- `store.DocumentStore` — JSON documents in one SQLite connection behind one re-entrant lock,
  with nested transactions and id sequences; each desk's store adds its tables and lookups.
- `clock` (`SystemClock`, `FakeClock`), the one clock a sandbox's limiter and store read.
- `limiter.RateLimiter` — fixed one-minute windows per endpoint class on that clock.
- `faults.Faults` — seeded random faults (500, 503, 503 + Retry-After, slow answers, lost answers
  after a write) and scheduled ones (`inject`: the next N requests under a path answer a status).
- `requestlog.RequestLog` — the bounded request log and the checkers' violations.
- `seeding` — what the desks' sample data share (first-service days).
- `options` (light: no Werkzeug) — the serve command's common arguments and the host policy:
  loopback only unless `--host` comes with `--allow-remote` and a token that is not the default.
- `serve` — serving a desk in a background thread (tests, demos) or in the foreground (the
  `deskbook sandbox <desk>` command).

Each desk keeps only its routes, handlers, rules and error shapes.
"""
