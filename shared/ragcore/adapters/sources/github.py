"""GitHub repositories through the REST API (v3), with RAGFlow's config (`repository_owner`, `repository_name` —
one or several, comma-separated, or empty for all the owner's repositories —, `include_pull_requests`,
`include_issues`, `credentials.github_access_token`) and ours: `include_files` (default on: the files of the default
branch, or `branch`, under `path`) and `base_url` (GitHub Enterprise's API root).

Listing is cheap: a repository's files are one recursive tree call, each file fingerprinted by its blob SHA (only
changed files are downloaded); issues and pull requests are pages of the issues list, fingerprinted by updated_at.
An issue becomes a Markdown document with its comments.
"""

from __future__ import annotations

import base64
import json
import posixpath
from collections.abc import Callable
from typing import Any

from ragcore.adapters.sources.feeds import file_name
from ragcore.adapters.sources.guard import OutboundGuard
from ragcore.adapters.sources.rest import RestApi
from ragcore.domain.sources import Listing, SourceError, SourceItem, too_large

API = "https://api.github.com"
PER_PAGE = 100


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes", "on")


class GitHubSource:
    def __init__(self, config: dict[str, Any], guard: OutboundGuard, *, accept: Callable[[str], bool], max_bytes: int) -> None:
        self._owner = str(config.get("repository_owner") or "").strip()
        if not self._owner:
            raise SourceError("GitHub: repository_owner is required.")
        names = str(config.get("repository_name") or "")
        self._repos = [n.strip() for n in names.split(",") if n.strip()]
        self._files = _flag(config.get("include_files"), True)
        self._issues = _flag(config.get("include_issues"), True)
        self._prs = _flag(config.get("include_pull_requests"), True)
        self._branch = str(config.get("branch") or "")
        self._path = str(config.get("path") or "").strip("/")
        token = str((config.get("credentials") or {}).get("github_access_token") or "")
        if not token:
            raise SourceError("Missing github_access_token in credentials")
        self._api = RestApi(guard, str(config.get("base_url") or API), name="GitHub", headers={
            "Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"})
        self._accept = accept
        self._max_bytes = max_bytes
        self._issue_cache: dict[str, dict[str, Any]] = {}

    def _all_repos(self) -> list[str]:
        if self._repos:
            return self._repos
        names: list[str] = []
        page = 1
        while True:
            batch = self._api.json(f"/users/{self._owner}/repos", {"per_page": PER_PAGE, "page": page},
                                   what=f"the repositories of {self._owner}")
            names.extend(str(r["name"]) for r in batch)
            if len(batch) < PER_PAGE:
                return names
            page += 1

    def check(self) -> None:
        if not self._repos:
            self._api.json(f"/users/{self._owner}", what=f"owner {self._owner}")
        for repo in self._repos:
            self._api.json(f"/repos/{self._owner}/{repo}", what=f"repository {self._owner}/{repo}")

    def list_page(self, cursor: str | None) -> Listing:
        state: dict[str, Any] = json.loads(cursor) if cursor else {"repos": self._all_repos(), "i": 0,
                                                                   "stage": "files", "page": 1}
        repos: list[str] = state["repos"]
        if state["i"] >= len(repos):
            return Listing([], None)
        repo = repos[state["i"]]
        items: list[SourceItem] = []
        if state["stage"] == "files":
            if self._files:
                items = self._file_items(repo)
            state.update(stage="issues", page=1)
        else:
            if self._issues or self._prs:
                batch = self._api.json(f"/repos/{self._owner}/{repo}/issues",
                                       {"state": "all", "per_page": PER_PAGE, "page": state["page"], "sort": "created",
                                        "direction": "asc"}, what=f"the issues of {self._owner}/{repo}")
                items = [self._issue_item(repo, issue) for issue in batch
                         if (self._prs if "pull_request" in issue else self._issues)]
                more = len(batch) == PER_PAGE
            else:
                more = False
            if more:
                state["page"] += 1
            else:
                state.update(i=state["i"] + 1, stage="files", page=1)
        done = state["i"] >= len(repos)
        return Listing(items, None if done else json.dumps(state))

    def _file_items(self, repo: str) -> list[SourceItem]:
        branch = self._branch or str(self._api.json(f"/repos/{self._owner}/{repo}", what=f"repository {self._owner}/{repo}")
                                     .get("default_branch") or "main")
        tree = self._api.json(f"/repos/{self._owner}/{repo}/git/trees/{branch}", {"recursive": "1"},
                              what=f"branch {branch} of {self._owner}/{repo}")
        items = []
        for entry in tree.get("tree") or []:
            path = str(entry.get("path") or "")
            name = posixpath.basename(path)
            if entry.get("type") != "blob" or (self._path and not path.startswith(self._path + "/")) \
                    or not name or name.startswith(".") or not self._accept(name):
                continue
            items.append(SourceItem(key=f"{self._owner}/{repo}:file:{path}", name=name, fingerprint=str(entry["sha"]),
                                    size=int(entry.get("size") or 0), meta={"repo": repo, "sha": entry["sha"], "path": path}))
        return items

    def _issue_item(self, repo: str, issue: dict[str, Any]) -> SourceItem:
        kind = "PR" if "pull_request" in issue else "Issue"
        key = f"{self._owner}/{repo}:issue:{issue['number']}"
        self._issue_cache[key] = {**issue, "_repo": repo}
        return SourceItem(key=key, name=file_name(f"{repo} {kind} #{issue['number']} {issue.get('title') or ''}", kind, "md"),
                          fingerprint=f"{issue.get('updated_at')}:{issue.get('comments', 0)}",
                          meta={"url": issue.get("html_url", "")})

    def fetch(self, item: SourceItem) -> bytes:
        if ":file:" in item.key:
            if item.size is not None and item.size > self._max_bytes:
                raise SourceError(too_large(item.name, self._max_bytes))
            blob = self._api.json(f"/repos/{self._owner}/{item.meta['repo']}/git/blobs/{item.meta['sha']}", what=item.name)
            data = base64.b64decode(blob.get("content") or "") if blob.get("encoding") == "base64" \
                else str(blob.get("content") or "").encode("utf-8")
            if len(data) > self._max_bytes:
                raise SourceError(too_large(item.name, self._max_bytes))
            return data
        issue = self._issue_cache.get(item.key)
        if issue is None:
            raise SourceError(f"{item.name} was not in this listing")
        return self._issue_markdown(issue).encode("utf-8")

    def _issue_markdown(self, issue: dict[str, Any]) -> str:
        kind = "Pull request" if "pull_request" in issue else "Issue"
        labels = ", ".join(str(label.get("name")) for label in issue.get("labels") or [] if isinstance(label, dict))
        lines = [f"# {issue.get('title') or ''}", "",
                 f"{kind} #{issue['number']} in {self._owner}/{issue['_repo']} ({issue.get('state')}), "
                 f"opened by {(issue.get('user') or {}).get('login', '')} — {issue.get('html_url', '')}"]
        if labels:
            lines.append(f"Labels: {labels}")
        lines += ["", str(issue.get("body") or "")]
        if int(issue.get("comments") or 0):
            comments = self._api.json(f"/repos/{self._owner}/{issue['_repo']}/issues/{issue['number']}/comments",
                                      {"per_page": PER_PAGE}, what=f"the comments of #{issue['number']}")
            for comment in comments:
                lines += ["", f"## Comment by {(comment.get('user') or {}).get('login', '')}", "", str(comment.get("body") or "")]
        return "\n".join(lines) + "\n"
