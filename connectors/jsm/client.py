"""JSM client: servicedeskapi, Jira platform search/properties, automation rules, internal SLA.

Transport choice: every call goes through `deskbook.http.DeskSession` (the project's one retry
policy: 429 honours `Retry-After`, 5xx/timeouts back off with jitter inside a wait budget; call
counters per endpoint; plain http only to loopback). python-jira's `JIRA` brings its own
`ResilientSession` with a second, different retry loop and no call counters, and it covers
none of the servicedeskapi/automation endpoints deskbook needs, so it is not the transport;
`JsmClient.jira()` still hands out a `jira.JIRA` bound to the same site and credentials
(REST v3, no server-info round trip, its retries off) for callers that want its resources.

Connection from the environment (`JsmConnection.from_env`): `JIRA_URL`, `JIRA_EMAIL`,
`JIRA_API_TOKEN`, `JSM_PROJECT` (service project key), `JIRA_CLOUD_ID` (optional: read from
`/_edge/tenant_info` when absent; the automation API is addressed by it). `JIRA_URL` is the site
(`https://<site>.atlassian.net`, classic tokens) or `https://api.atlassian.com/ex/jira/{cloudId}`
(scoped and service-account tokens work only there, FACTS.md 1.2); the cloud id then comes from
the URL and the automation API is addressed through the same gateway.

Pagination objects: servicedeskapi pages with `deskbook.http.StartLimitPaginator`
(`isLastPage`; the server caps `limit`); JQL search with `NextPageTokenPaginator`
(`nextPageToken`/`isLast`); automation rule summaries with `AutomationCursorPaginator`
(`links.next` carries `?cursor=...`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Iterator, Mapping
from urllib.parse import parse_qs, urlsplit

from deskbook.connectors.jsm import automation
from deskbook.errors import DeskbookError
from deskbook.http import (
    DeskSession,
    PageRequest,
    Paginator,
    RetryPolicy,
    StartLimitPaginator,
    is_loopback,
    page_request,
    refuse_user_info,
)
from deskbook.log import register_secret

SD = "/rest/servicedeskapi"
#: Atlassian's API gateway (automation and CSM APIs; `/ex/jira/{cloudId}` for scoped tokens).
API_GATEWAY = "https://api.atlassian.com"
#: A `JIRA_URL` through the gateway: `https://api.atlassian.com/ex/jira/{cloudId}` (FACTS.md 1.2).
SCOPED_URL = re.compile(r"^(?P<gateway>https?://[^/]+)/ex/jira/(?P<cloud>[0-9A-Za-z-]{8,})$")
API = "/rest/api/3"
EXPERIMENTAL = {"X-ExperimentalApi": "opt-in"}
#: Issue type names (lower case) JSM service projects give service requests; request types use it.
SERVICE_REQUEST_TYPES = ("service request", "[system] service request")
#: Organization profiles one `POST …/organization/profile/fetch` returns at most (FACTS.md 5.6).
CSM_FETCH_LIMIT = 25
#: `schema.custom` of JSM's Organizations field (its id differs per site).
ORGANIZATIONS_SCHEMA = "com.atlassian.servicedesk:sd-customer-organizations"
#: Organization property under which deskbook keeps contract data (`contract_end`, `tier`, ...).
CONTRACT_PROPERTY = "deskbook.contract"


@dataclass(frozen=True)
class JsmConnection:
    """Where the JSM site is and how to log in."""

    url: str
    email: str
    token: str
    project_key: str = "SUP"
    cloud_id: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: str | None) -> "JsmConnection":
        """Read `JIRA_URL`, `JIRA_EMAIL`, `JIRA_API_TOKEN`, `JSM_PROJECT`, `JIRA_CLOUD_ID`; flags win."""
        env = os.environ if env is None else env
        values = {
            "url": overrides.get("url") or env.get("JIRA_URL"),
            "email": overrides.get("email") or env.get("JIRA_EMAIL"),
            "token": overrides.get("token") or env.get("JIRA_API_TOKEN"),
            "project_key": overrides.get("project_key") or env.get("JSM_PROJECT") or "SUP",
            "cloud_id": overrides.get("cloud_id") or env.get("JIRA_CLOUD_ID") or None,
        }
        names = {"url": "JIRA_URL", "email": "JIRA_EMAIL", "token": "JIRA_API_TOKEN"}
        missing = [names[k] for k in names if not values[k]]
        if missing:
            raise DeskbookError(f"missing JSM connection settings: {', '.join(missing)}",
                                hint="export them (JIRA_URL=https://<site>.atlassian.net, or "
                                     "https://api.atlassian.com/ex/jira/<cloudId> for a scoped token; JIRA_EMAIL, "
                                     "JIRA_API_TOKEN) or pass --url/--email/--token")
        register_secret(values["token"])
        email, token, project_key = str(values["email"]), str(values["token"]), str(values["project_key"])
        refuse_user_info(str(values["url"]), "the JSM URL (--url / JIRA_URL)")
        url = str(values["url"]).rstrip("/")
        scoped = SCOPED_URL.match(url)
        if scoped and values["cloud_id"] and values["cloud_id"] != scoped["cloud"]:
            raise DeskbookError(f"JIRA_CLOUD_ID {values['cloud_id']} differs from the cloud id in JIRA_URL ({scoped['cloud']})",
                                hint="drop JIRA_CLOUD_ID; the api.atlassian.com URL names the site already")
        return cls(url=url, email=email, token=token, project_key=project_key,
                   cloud_id=values["cloud_id"] or (scoped["cloud"] if scoped else None))

    @property
    def scoped(self) -> bool:
        """Whether `url` is the api.atlassian.com form scoped tokens need (`/ex/jira/{cloudId}`)."""
        return SCOPED_URL.match(self.url) is not None

    @property
    def gateway(self) -> str:
        """Where the APIs Atlassian hosts on api.atlassian.com live (automation, CSM): the gateway of a
        scoped URL; for a site URL `https://api.atlassian.com`, except that a loopback sandbox plays
        both the site and the gateway."""
        scoped = SCOPED_URL.match(self.url)
        if scoped:
            return scoped["gateway"]
        return self.url if is_loopback(urlsplit(self.url).hostname) else API_GATEWAY


class NextPageTokenPaginator(Paginator):
    """Jira platform `/search/jql` paging: a POST (a read) with `maxResults`; follow
    `nextPageToken` until `isLast` (or no token)."""

    key = "issues"

    def __init__(self, max_results: int = 100):
        self.max_results = max_results

    def first(self, path: str, params: dict[str, Any] | None = None, body: Any = None) -> PageRequest:
        """The search body with `maxResults`."""
        return page_request(path, params, {**(body or {}), "maxResults": self.max_results})

    def next(self, request: PageRequest, data: Any) -> PageRequest | None:
        """The same body with `nextPageToken`."""
        token = data.get("nextPageToken")
        if data.get("isLast", True) or not token:
            return None
        return request.with_body(nextPageToken=token)


class AutomationCursorPaginator(Paginator):
    """Automation API paging: `data` items, `links.next` holds `?cursor=...` (relative or absolute);
    a POST with filters when there is a body, else a GET."""

    key = "data"

    def __init__(self, limit: int = 100):
        self.limit = limit

    def first(self, path: str, params: dict[str, Any] | None = None, body: Any = None) -> PageRequest:
        """`limit` in the body (POST) or the query (GET)."""
        if body is not None:
            return page_request(path, params, {**body, "limit": self.limit})
        return page_request(path, {**(params or {}), "limit": self.limit})

    def next(self, request: PageRequest, data: Any) -> PageRequest | None:
        """The `cursor` of `links.next`, where the first request had its `limit`."""
        following = (data.get("links") or {}).get("next")
        cursor = (parse_qs(urlsplit(following).query).get("cursor") or [None])[0] if following else None
        if not cursor:
            return None
        return request.with_body(cursor=cursor) if request.body is not None else request.with_params(cursor=cursor)


class JsmClient:
    """The JSM calls deskbook makes, over one `DeskSession`."""

    def __init__(self, connection: JsmConnection, *, session: DeskSession | None = None,
                 policy: RetryPolicy | None = None, page_limit: int = 50):
        self.connection = connection
        self.session = session or DeskSession(connection.url, auth=(connection.email, connection.token),
                                              policy=policy)
        self.pages = StartLimitPaginator(limit=page_limit)
        self._desk: dict | None = None
        self._cloud_id = connection.cloud_id
        self._myself: dict | None = None
        self._issue_type_id: str | None = None
        self._organizations_field: str | None = None
        self._type_fields: dict[str, set[str]] = {}
        self._accounts: dict[str, str] = {}

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> "JsmClient":
        """A client for the site named by the environment (see `JsmConnection.from_env`)."""
        return cls(JsmConnection.from_env(env, **overrides))

    @property
    def calls(self):
        """Requests sent, per endpoint (`"METHOD /path"`)."""
        return self.session.calls

    def jira(self) -> Any:
        """A configured python-jira `JIRA` in Cloud mode for your own scripts, on this client's site and
        credentials (email + API token): REST v3, no server-info round trip, no update check, no
        retries of its own (retry in your script, or use deskbook's commands, whose calls go
        through `DeskSession`).

        Cloud mode is set rather than asked for (deskbook works with JSM Cloud only): python-jira
        then speaks as to Jira Cloud — account ids, `search_issues` through `/search/jql`."""
        import jira

        client = jira.JIRA(server=self.connection.url, basic_auth=(self.connection.email, self.connection.token),
                           options={"rest_api_version": "3", "check_update": False}, get_server_info=False,
                           max_retries=0)
        client.deploymentType = "Cloud"
        return client

    # ---------------------------------------------------------------- service desk
    def service_desk(self) -> dict:
        """The service desk of `JSM_PROJECT` (cached); a clear error when it is not there."""
        if self._desk is None:
            for desk in self.pages.iter_items(self.session, f"{SD}/servicedesk"):
                if desk.get("projectKey") == self.connection.project_key:
                    self._desk = desk
                    break
            else:
                raise DeskbookError(f"no service project with key {self.connection.project_key}",
                                    where=self.connection.url, hint="set JSM_PROJECT to the key of a JSM service project")
        return self._desk

    @property
    def desk_id(self) -> str:
        """Id of the service desk of `JSM_PROJECT`."""
        return str(self.service_desk()["id"])

    def request_types(self) -> list[dict]:
        """Every request type of the service desk."""
        return list(self.pages.iter_items(self.session, f"{SD}/servicedesk/{self.desk_id}/requesttype"))

    def issue_types(self) -> list[dict]:
        """The issue types of the service project's scheme (`GET /rest/api/3/issuetype/project`)."""
        return list(self.session.get_json(f"{API}/issuetype/project",
                                          params={"projectId": self.service_desk()["projectId"]}) or [])

    def request_issue_type_id(self) -> str:
        """The issue type deskbook's request types use (cached): the project's service request type
        (`SERVICE_REQUEST_TYPES`, JSM's default for new request types), else its first standard type.
        A request type's issue type must be in the project's scheme (FACTS.md 3.2)."""
        if self._issue_type_id is None:
            types = [t for t in self.issue_types() if not t.get("subtask")]
            if not types:
                raise DeskbookError(f"project {self.connection.project_key} has no issue type a request type can use",
                                    where=self.connection.url, hint="add an issue type to the project's scheme")
            named = [t for t in types if str(t.get("name") or "").lower() in SERVICE_REQUEST_TYPES]
            self._issue_type_id = str((named or types)[0]["id"])
        return self._issue_type_id

    def create_request_type(self, name: str, description: str = "", help_text: str = "",
                            issue_type_id: str | None = None, *, label: str | None = None) -> dict:
        """Create a request type (experimental API: sends `X-ExperimentalApi: opt-in`). The body is what
        the API takes, nothing else (`groupIds`/`iconId` are refused, FACTS.md 3.2); the issue type is
        `request_issue_type_id()` unless given."""
        body = {"name": name, "issueTypeId": str(issue_type_id or self.request_issue_type_id()),
                "description": description, "helpText": help_text}
        return self.session.json_request("POST", f"{SD}/servicedesk/{self.desk_id}/requesttype", json=body,
                                         headers=EXPERIMENTAL, label=label or f"request type {name!r}")

    def delete_request_type(self, type_id: str, *, label: str | None = None) -> None:
        """Delete a request type (experimental API)."""
        self.session.request("DELETE", f"{SD}/servicedesk/{self.desk_id}/requesttype/{type_id}",
                             headers=EXPERIMENTAL, label=label)

    def request_type_property(self, type_id: str, key: str) -> Any | None:
        """A request type property's value, or None when unset (404; experimental API)."""
        found = self._get_or_none(f"{SD}/servicedesk/{self.desk_id}/requesttype/{type_id}/property/{key}",
                                  headers=EXPERIMENTAL)
        return None if found is None else found.get("value")

    def set_request_type_property(self, type_id: str, key: str, value: Any, *, label: str | None = None) -> None:
        """Set a request type property (experimental API; 201 new, 200 replaced)."""
        self.session.request("PUT", f"{SD}/servicedesk/{self.desk_id}/requesttype/{type_id}/property/{key}",
                             json=value, headers=EXPERIMENTAL, label=label or f"request type {type_id} property {key}")

    def request_type_fields(self, type_id: str) -> list[dict]:
        """The fields of a request type."""
        data = self.session.get_json(f"{SD}/servicedesk/{self.desk_id}/requesttype/{type_id}/field")
        return list(data.get("requestTypeFields") or [])

    # ---------------------------------------------------------------- organizations
    def organizations(self) -> list[dict]:
        """Every organization of the project's service desk."""
        return list(self.iter_organizations())

    def iter_organizations(self) -> Iterator[dict]:
        """The organizations of the project's service desk, page by page as they are read. Not the
        site-wide `/organization` list: on a site with several service projects that holds other
        desks' customers too (FACTS.md 5.1)."""
        return self.pages.iter_items(self.session, f"{SD}/servicedesk/{self.desk_id}/organization")

    def attach_organization(self, org_id: str) -> None:
        """Add an organization (site-wide) to the project's service desk."""
        self.session.request("POST", f"{SD}/servicedesk/{self.desk_id}/organization",
                             json={"organizationId": int(org_id)}, label=f"organization {org_id}")

    def _get_or_none(self, path: str, params: dict[str, Any] | None = None,
                     headers: dict[str, str] | None = None) -> Any | None:
        """`GET path`'s JSON, or None when the desk answers 404 (the object or property does not exist)."""
        response = self.session.request("GET", path, params=params, headers=headers, raise_for_status=False)
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise self.session.error_for(response, "GET", path, None)
        return response.json()

    def organization(self, org_id: str) -> dict | None:
        """One organization, or None when it does not exist (404)."""
        return self._get_or_none(f"{SD}/organization/{org_id}")

    def create_organization(self, name: str) -> dict:
        """Create an organization."""
        return self.session.json_request("POST", f"{SD}/organization", json={"name": name},
                                         label=f"organization {name!r}")

    def delete_organization(self, org_id: str) -> None:
        """Delete an organization."""
        self.session.request("DELETE", f"{SD}/organization/{org_id}", label=f"organization {org_id}")

    def organization_property_keys(self, org_id: str) -> list[str]:
        """Keys of an organization's properties."""
        data = self.session.get_json(f"{SD}/organization/{org_id}/property")
        return [entry["key"] for entry in data.get("keys") or []]

    def organization_property(self, org_id: str, key: str) -> Any | None:
        """An organization property's value, or None when unset."""
        found = self._get_or_none(f"{SD}/organization/{org_id}/property/{key}")
        return None if found is None else found.get("value")

    def set_organization_property(self, org_id: str, key: str, value: Any) -> bool:
        """Set an organization property; True when it was created (201), False when replaced (200)."""
        response = self.session.request("PUT", f"{SD}/organization/{org_id}/property/{key}", json=value,
                                        label=f"organization {org_id} property {key}")
        return response.status_code == 201

    def delete_organization_property(self, org_id: str, key: str) -> None:
        """Remove an organization property."""
        self.session.request("DELETE", f"{SD}/organization/{org_id}/property/{key}",
                             label=f"organization {org_id} property {key}")

    def organization_users(self, org_id: str) -> list[dict]:
        """The customers of an organization."""
        return list(self.pages.iter_items(self.session, f"{SD}/organization/{org_id}/user"))

    def add_organization_users(self, org_id: str, account_ids: list[str]) -> None:
        """Add customers to an organization."""
        self.session.request("POST", f"{SD}/organization/{org_id}/user", json={"accountIds": list(account_ids)},
                             label=f"organization {org_id}")

    def create_customer(self, email: str, display_name: str) -> dict:
        """Create a portal customer account (JSM emails them an invitation, FACTS.md 4.9)."""
        return self.session.json_request("POST", f"{SD}/customer", json={"email": email, "displayName": display_name},
                                         label=f"customer {email}")

    def find_customer(self, email: str) -> str | None:
        """The accountId of the desk's customer with `email`, or None (nothing is created). Cached."""
        wanted = email.strip().lower()
        if wanted not in self._accounts:
            page = self.session.get_json(f"{SD}/servicedesk/{self.desk_id}/customer",
                                         params={"query": email, "limit": 50}, headers=EXPERIMENTAL)
            found = [c for c in page.get("values") or [] if str(c.get("emailAddress") or "").lower() == wanted]
            if not found:
                return None
            self._accounts[wanted] = str(found[0]["accountId"])
        return self._accounts[wanted]

    def customer_account_id(self, email: str, display_name: str | None = None) -> str:
        """The accountId of the desk's customer with `email` (what `raiseOnBehalfOf` takes: emails are
        refused, FACTS.md 4.2): looked up among the desk's customers, else created and added to the
        desk. Cached per client."""
        found = self.find_customer(email)
        if found is None:
            made = self.create_customer(email, display_name or email)
            self.session.request("POST", f"{SD}/servicedesk/{self.desk_id}/customer",
                                 json={"accountIds": [made["accountId"]]}, label=f"customer {email}")
            found = self._accounts[email.strip().lower()] = str(made["accountId"])
        return found

    # ---------------------------------------------------------------- requests
    def request_type_field_ids(self, type_id: str) -> set[str]:
        """Ids of the fields on a request type's form (cached): a request may set only these (FACTS.md 4.3)."""
        if str(type_id) not in self._type_fields:
            self._type_fields[str(type_id)] = {f["fieldId"] for f in self.request_type_fields(str(type_id))}
        return self._type_fields[str(type_id)]

    def create_request(self, request_type_id: str, summary: str, description: str = "", *,
                       raise_on_behalf_of: str | None = None, label: str | None = None) -> dict:
        """Raise a customer request (optionally on behalf of a customer account id); the description only
        when the request type's form has it."""
        values = {"summary": summary}
        if description and "description" in self.request_type_field_ids(request_type_id):
            values["description"] = description
        body: dict[str, Any] = {"serviceDeskId": self.desk_id, "requestTypeId": str(request_type_id),
                                "requestFieldValues": values}
        if raise_on_behalf_of:
            body["raiseOnBehalfOf"] = raise_on_behalf_of
        return self.session.json_request("POST", f"{SD}/request", json=body, label=label or f"request {summary!r}")

    def request(self, key: str) -> dict:
        """A customer request by key."""
        return self.session.get_json(f"{SD}/request/{key}")

    def add_comment(self, key: str, body: str, *, public: bool) -> dict:
        """Comment on a request; `public=False` is an internal note for agents."""
        return self.session.json_request("POST", f"{SD}/request/{key}/comment",
                                         json={"body": body, "public": public}, label=f"request {key}")

    def comments(self, key: str) -> list[dict]:
        """Every comment of a request."""
        return list(self.pages.iter_items(self.session, f"{SD}/request/{key}/comment"))

    def request_sla(self, key: str) -> list[dict]:
        """SLA information of a request (what `verify --desk jsm` reads)."""
        return list(self.pages.iter_items(self.session, f"{SD}/request/{key}/sla"))

    # ---------------------------------------------------------------- platform
    def search(self, jql: str, *, fields: list[str] | None = None, properties: list[str] | None = None,
               max_results: int = 100, reconcile: list[int] | None = None) -> Iterator[dict]:
        """Issues matching `jql` (POST `/search/jql`, `nextPageToken` paging); `reconcile`: ids of issues
        just written, whose results must be current (`reconcileIssues`, at most 50; FACTS.md 8.2: search
        is eventually consistent)."""
        body: dict[str, Any] = {"jql": jql, "fields": fields or ["summary", "labels"]}
        if properties:
            body["properties"] = properties
        if reconcile:
            body["reconcileIssues"] = [int(i) for i in reconcile[:50]]
        return NextPageTokenPaginator(max_results).iter_items(self.session, f"{API}/search/jql", body=body)

    def unindexed_ids(self, limit: int = 50) -> list[int]:
        """Ids that the project's newest issues — which JQL may not list yet — have or will have: search is
        eventually consistent (FACTS.md 8.2), but issue ids only grow, so every issue created after the
        newest one search finds has one of the `limit` ids after that issue's (`reconcileIssues` takes
        50; other projects' issues share the sequence and just do not match a project's JQL). One search;
        with nothing indexed yet, the project's first keys are read directly until one is missing. The
        reading taken: an id no issue has is ignored by `reconcileIssues`. Pass them as `search(...,
        reconcile=)` where a search must see what was created moments ago without knowing its id (a
        create whose answer was lost)."""
        project = self.connection.project_key
        newest = next(iter(self.search(f"project = {project} ORDER BY key DESC", fields=["summary"], max_results=1)),
                      None)
        if newest is not None and str(newest.get("id", "")).isdigit():
            return list(range(int(newest["id"]) + 1, int(newest["id"]) + 1 + limit))
        ids: list[int] = []
        for number in range(1, limit + 1):
            issue = self.issue(f"{project}-{number}", fields=["summary"])
            if issue is None or not str(issue.get("id", "")).isdigit():
                break
            ids.append(int(issue["id"]))
        return ids

    def issue(self, key: str, *, fields: list[str] | None = None, properties: list[str] | None = None) -> dict | None:
        """One issue (`GET /rest/api/3/issue/{key}`, read directly, not through the search index), or None."""
        params = {k: ",".join(v) for k, v in (("fields", fields), ("properties", properties)) if v}
        return self._get_or_none(f"{API}/issue/{key}", params or None)

    def issue_property(self, key: str, prop: str) -> Any | None:
        """An issue property's value, or None when unset."""
        found = self._get_or_none(f"{API}/issue/{key}/properties/{prop}")
        return None if found is None else found.get("value")

    def set_issue_property(self, key: str, prop: str, value: Any) -> None:
        """Set an issue property (e.g. the sync job's exactly-once key)."""
        self.session.request("PUT", f"{API}/issue/{key}/properties/{prop}", json=value, label=f"issue {key}")

    def fields(self) -> list[dict]:
        """Every issue field of the site (`GET /rest/api/3/field`)."""
        return list(self.session.get_json(f"{API}/field") or [])

    def organizations_field_id(self) -> str:
        """The id of the Organizations field (cached), found by its schema: the id differs per site and
        the name is localised (FACTS.md 4.5)."""
        if self._organizations_field is None:
            found = [f for f in self.fields() if (f.get("schema") or {}).get("custom") == ORGANIZATIONS_SCHEMA]
            if not found:
                raise DeskbookError("the site has no Organizations field (JSM's sd-customer-organizations)",
                                    where=self.connection.url, hint="is Jira Service Management licensed on this site?")
            self._organizations_field = str(found[0]["id"])
        return self._organizations_field

    def edit_issue(self, key: str, *, fields: dict | None = None, update: dict | None = None,
                   label: str | None = None) -> None:
        """Edit an issue through the platform API (`PUT /rest/api/3/issue/{key}`)."""
        body = {k: v for k, v in (("fields", fields), ("update", update)) if v}
        self.session.request("PUT", f"{API}/issue/{key}", json=body, label=label or f"issue {key}")

    def delete_issue(self, key: str) -> None:
        """Delete an issue (`DELETE /rest/api/3/issue/{key}`; needs the "Delete issues" permission)."""
        self.session.request("DELETE", f"{API}/issue/{key}", label=f"issue {key}")

    def add_labels(self, key: str, labels: list[str]) -> None:
        """Add labels to an issue."""
        self.session.request("PUT", f"{API}/issue/{key}", json={"update": {"labels": [{"add": x} for x in labels]}},
                             label=f"issue {key}")

    # ---------------------------------------------------------------- automation
    @property
    def cloud_id(self) -> str:
        """The site's cloud id (`JIRA_CLOUD_ID`, else `/_edge/tenant_info`)."""
        if not self._cloud_id:
            data = self.session.get_json("/_edge/tenant_info")
            self._cloud_id = data.get("cloudId")
            if not self._cloud_id:
                raise DeskbookError("cannot find the site's cloud id", where=self.connection.url,
                                    hint="set JIRA_CLOUD_ID (Jira admin > System > cloud id)")
        return self._cloud_id

    @property
    def automation_base(self) -> str:
        """Base of the automation rule-management API (FACTS.md 1.5): the site's gateway path for a site
        URL, the api.atlassian.com one for a scoped URL (whose tokens only work there)."""
        if self.connection.scoped:
            return f"{self.connection.gateway}/automation/public/jira/{self.cloud_id}/rest/v1"
        return f"/gateway/api/automation/public/jira/{self.cloud_id}/rest/v1"

    @property
    def project_ari(self) -> str:
        """The ARI that scopes rules to the service project."""
        return f"ari:cloud:jira:{self.cloud_id}:project/{self.service_desk()['projectId']}"

    def myself(self) -> dict:
        """`GET /rest/api/3/myself` (cached): the account rules are authored by and run as."""
        if self._myself is None:
            self._myself = self.session.get_json(f"{API}/myself")
        return self._myself

    @property
    def account_id(self) -> str:
        """The API user's account id."""
        return str(self.myself()["accountId"])

    def rule_summaries(self, *, scope: str | None = None, state: str | None = None,
                       trigger: str | None = None) -> list[dict]:
        """Summaries of automation rules (filtered by scope ARI / state / trigger type when given).
        Older field names (`idUuid`, `ruleScope`) are read as `uuid`, `ruleScopeARIs` (FACTS.md 2.10)."""
        body = {k: v for k, v in (("scope", scope), ("state", state), ("trigger", trigger)) if v} or None
        out = []
        for summary in AutomationCursorPaginator().iter_items(self.session, f"{self.automation_base}/rule/summary",
                                                              body=body):
            summary = dict(summary)
            if "uuid" not in summary and "idUuid" in summary:
                summary["uuid"] = summary["idUuid"]
            if "ruleScopeARIs" not in summary and "ruleScope" in summary:
                summary["ruleScopeARIs"] = (summary["ruleScope"] or {}).get("resources", summary["ruleScope"])
            out.append(summary)
        return out

    def rule(self, rule_uuid: str) -> dict:
        """One automation rule (the `rule` object of the `{rule, connections}` response)."""
        return self.session.get_json(f"{self.automation_base}/rule/{rule_uuid}").get("rule", {})

    def create_rule(self, rule: dict, *, label: str | None = None) -> str:
        """Create an automation rule DISABLED (a create's state may not stick), then give it the
        wanted state with `PUT …/state`; returns its UUID. Missing required settings are filled
        (`automation.for_write`), the author and actor from `myself`."""
        body = automation.for_write(rule, account_id=self.account_id)
        wanted = body.get("state") or "ENABLED"
        data = self.session.json_request("POST", f"{self.automation_base}/rule",
                                         json=automation.wrap({**body, "state": "DISABLED"}),
                                         label=label or f"automation rule {rule.get('name')!r}")
        rule_uuid = data["ruleUuid"]
        if wanted == "ENABLED":
            self.set_rule_state(rule_uuid, enabled=True, label=label)
        return rule_uuid

    def update_rule(self, rule_uuid: str, rule: dict, *, label: str | None = None) -> None:
        """Replace an automation rule's definition (the whole rule, without node ids), then set its state."""
        body = automation.for_write(rule, account_id=self.account_id)
        wanted = body.get("state") or "ENABLED"
        self.session.request("PUT", f"{self.automation_base}/rule/{rule_uuid}",
                             json=automation.wrap(body),
                             label=label or f"automation rule {rule.get('name')!r}")
        if wanted == "ENABLED":
            self.set_rule_state(rule_uuid, enabled=True, label=label)

    def set_rule_state(self, rule_uuid: str, enabled: bool, *, label: str | None = None) -> None:
        """Enable or disable an automation rule (`{"value": "ENABLED"|"DISABLED"}`)."""
        self.session.request("PUT", f"{self.automation_base}/rule/{rule_uuid}/state",
                             json={"value": "ENABLED" if enabled else "DISABLED"},
                             label=label or f"automation rule {rule_uuid}")

    def delete_rule(self, rule_uuid: str, *, label: str | None = None) -> bool:
        """Disable, then `DELETE /rule/{uuid}` (FACTS.md 2.12: later clients do this; the 2025 spec
        has no DELETE). False when the site has no delete (404/405): the caller falls back."""
        self.set_rule_state(rule_uuid, enabled=False, label=label)
        path = f"{self.automation_base}/rule/{rule_uuid}"
        response = self.session.request("DELETE", path, headers={"Content-Type": "application/json"},
                                        raise_for_status=False, label=label)
        if response.status_code in (404, 405):
            return False
        if response.status_code >= 400:
            raise self.session.error_for(response, "DELETE", path, label)
        return True

    # ---------------------------------------------------------------- Customer Service Management
    @property
    def csm_base(self) -> str:
        """Base of the CSM API (FACTS.md 1.6: on api.atlassian.com, or the scoped URL's gateway)."""
        return f"{self.connection.gateway}/jsm/csm/cloudid/{self.cloud_id}/api/v1"

    def csm_detail_fields(self) -> list[dict] | None:
        """The site's organization detail fields, or None when Customer Service Management is not
        available (its API answers 401/403/404: not licensed, feature off, no Administer Jira)."""
        path = f"{self.csm_base}/organization/details"
        response = self.session.request("GET", path, headers=EXPERIMENTAL, raise_for_status=False)
        if response.status_code in (401, 403, 404):
            return None
        if response.status_code >= 400:
            raise self.session.error_for(response, "GET", path, "organization detail fields")
        return list(response.json().get("results") or [])

    def create_csm_detail_field(self, name: str, type_name: str, options: list[str] | None = None, *,
                                label: str | None = None) -> dict:
        """Create an organization detail field (site-wide)."""
        kind: dict[str, Any] = {"name": type_name}
        if options:
            kind["options"] = list(options)
        return self.session.json_request("POST", f"{self.csm_base}/organization/details",
                                         json={"name": name, "type": kind}, headers=EXPERIMENTAL,
                                         label=label or f"organization detail field {name!r}")

    def set_csm_detail(self, org_id: str, field_name: str, values: list[str]) -> None:
        """Set one organization's value(s) of a detail field."""
        self.session.request("PUT", f"{self.csm_base}/organization/{org_id}/details", params={"fieldName": field_name},
                             json={"values": list(values)}, headers=EXPERIMENTAL,
                             label=f"organization {org_id} detail {field_name}")

    def fetch_csm_profiles(self, org_ids: list[str]) -> list[dict]:
        """Organization profiles (with detail values), `CSM_FETCH_LIMIT` per call (FACTS.md 5.6)."""
        out: list[dict] = []
        for start in range(0, len(org_ids), CSM_FETCH_LIMIT):
            chunk = [str(i) for i in org_ids[start:start + CSM_FETCH_LIMIT]]
            data = self.session.json_request("POST", f"{self.csm_base}/organization/profile/fetch",
                                             json={"organizationIds": chunk}, headers=EXPERIMENTAL,
                                             idempotent=True)  # a read with a body: safe to repeat
            out += list(data.get("results") or [])
        return out

    # ---------------------------------------------------------------- internal admin API (opt-in)
    # Formats: `deskbook.connectors.jsm.internal`. None of these is a public contract (FACTS.md 6.2, 6.5, 7.2).
    def _sla_path(self) -> str:
        return f"/rest/servicedesk/1/servicedesk/agent/{self.connection.project_key}/sla/metrics"

    def sla_metrics(self) -> list[dict]:
        """SLA metrics of the project (internal API: not a public contract)."""
        return list(self.session.get_json(self._sla_path()).get("timeMetrics") or [])

    def create_sla_metric(self, metric: dict, *, label: str | None = None) -> dict:
        """Create an SLA metric `{name, config: {definition, goals}}` (internal API)."""
        return self.session.json_request("POST", self._sla_path(), json=metric,
                                         label=label or f"SLA {metric.get('name')!r}")

    def update_sla_metric(self, metric_id: int, metric: dict, *, label: str | None = None) -> dict:
        """Replace an SLA metric (internal API)."""
        return self.session.json_request("PUT", f"{self._sla_path()}/{metric_id}", json=metric,
                                         label=label or f"SLA {metric.get('name')!r}")

    def delete_sla_metric(self, metric_id: int, *, label: str | None = None) -> None:
        """Delete an SLA metric (internal API)."""
        self.session.request("DELETE", f"{self._sla_path()}/{metric_id}", label=label or f"SLA {metric_id}")

    def statuses(self) -> dict[str, str]:
        """The site's workflow statuses, name -> id (`GET /rest/api/3/status`; SLA status conditions name
        statuses by id)."""
        return {str(s["name"]): str(s["id"]) for s in self.session.get_json(f"{API}/status") or []}

    def calendars(self) -> list[dict]:
        """The project's SLA calendars (`GET /rest/workinghours/1/internal/dialog/{projectKey}`)."""
        data = self.session.get_json(f"/rest/workinghours/1/internal/dialog/{self.connection.project_key}")
        return list(data.get("calendars") or [])

    def create_calendar(self, calendar: dict, *, label: str | None = None) -> dict:
        """Create a calendar `{name, timezoneId, workingTimes, holidays}` in the project."""
        return self.session.json_request("POST", f"/rest/workinghours/1/api/calendar/{self.connection.project_key}",
                                         json=calendar, label=label or f"calendar {calendar.get('name')!r}")

    def update_calendar(self, calendar_id: Any, calendar: dict, *, label: str | None = None) -> dict:
        """Replace a calendar."""
        return self.session.json_request(
            "PUT", f"/rest/workinghours/1/api/calendar/{self.connection.project_key}/{calendar_id}", json=calendar,
            label=label or f"calendar {calendar.get('name')!r}")

    def delete_calendar(self, calendar_id: Any, *, label: str | None = None) -> None:
        """Delete a calendar (the site refuses while a goal uses it)."""
        self.session.request("DELETE", f"/rest/workinghours/1/api/calendar/{calendar_id}",
                             label=label or f"calendar {calendar_id}")

    def queues(self) -> list[dict]:
        """The service desk's queues (public, read-only `GET …/servicedesk/{id}/queue`: id, name, jql, fields)."""
        return list(self.pages.iter_items(self.session, f"{SD}/servicedesk/{self.desk_id}/queue"))

    def queue(self, queue_id: Any) -> dict | None:
        """One queue of the service desk (public `GET …/servicedesk/{id}/queue/{queueId}`), None when gone."""
        return self._get_or_none(f"{SD}/servicedesk/{self.desk_id}/queue/{queue_id}")

    def queue_issues(self, queue_id: Any) -> Iterator[dict]:
        """The requests in a queue, every page (public `GET …/servicedesk/{id}/queue/{queueId}/issue`)."""
        return self.pages.iter_items(self.session, f"{SD}/servicedesk/{self.desk_id}/queue/{queue_id}/issue")

    def _queues_path(self) -> str:
        return f"/rest/servicedesk/1/servicedesk/{self.connection.project_key}/queues"

    def create_queue(self, queue: dict, *, label: str | None = None) -> dict:
        """Create a queue `{name, jql, columns}` (internal API; the server prepends `project = KEY`)."""
        return self.session.json_request("POST", self._queues_path(), json=queue,
                                         label=label or f"queue {queue.get('name')!r}")

    def update_queue(self, queue_id: Any, queue: dict, *, label: str | None = None) -> dict:
        """Replace a queue's name, JQL and columns (internal API)."""
        return self.session.json_request("PUT", f"{self._queues_path()}/{queue_id}", json=queue,
                                         label=label or f"queue {queue.get('name')!r}")

    def delete_queue(self, queue_id: Any, *, label: str | None = None) -> bool:
        """Delete a queue with salto's `PUT …/queues {"deleted": [id]}` (FACTS.md 7.3, disputed); False when
        the site refuses it (400/404/405): the caller retires the queue instead."""
        response = self.session.request("PUT", self._queues_path(), json={"deleted": [int(queue_id)]},
                                        raise_for_status=False, label=label or f"queue {queue_id}")
        if response.status_code in (400, 404, 405):
            return False
        if response.status_code >= 400:
            raise self.session.error_for(response, "PUT", self._queues_path(), label)
        return True
