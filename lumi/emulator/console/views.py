"""The console's pages and form actions: one handler per route of :data:`ROUTES`.

Reads are GETs that change nothing; every change is a form POST, which the private routes'
protection lets through only with the cookie and the emulator's own ``Origin``. After a change
the handler redirects (303) to a page that says what happened, so a reload never repeats it.
A mistake in what the user typed is shown on the page, with what they typed kept.
"""

from __future__ import annotations

import json
import mimetypes
import time
from collections.abc import Callable
from typing import Any

from werkzeug.utils import redirect
from werkzeug.wrappers import Response
from werkzeug.wsgi import wrap_file

from lumi.emulator import limits
from lumi.emulator.console import charts, conversations, documents, inventory
from lumi.emulator.console.documents import ConsoleInputError
from lumi.emulator.console.readonly import ConsoleQueryError
from lumi.emulator.console.render import mail_html, page, static, url
from lumi.emulator.context import Call
from lumi.emulator.envelope import EmulatorError
from lumi.emulator.files import FileStorage
from lumi.emulator.store import QueryError
from lumi.emulator.users import ROLES

#: Outbox messages listed, newest first.
OUTBOX_SHOWN = 500
#: Files listed, newest first.
FILES_SHOWN = 500
#: Image types the Files view previews with <img> (never run as a document there).
PREVIEW_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml", "image/bmp"}
)


def _project_arg(call: Call) -> str | None:
    return call.request.args.get("project") or None


def _not_found(message: str) -> Response:
    return page("not_found.html", status=404, message=message, active="")


def _query_failed(exc: ConsoleQueryError, active: str) -> Response:
    return page("not_found.html", status=503, message=str(exc), active=active)


def _form(call: Call) -> Any:
    """The posted form; a document as large as the protocol's JSON bound fits."""
    call.request.max_form_memory_size = limits.MAX_JSON_BODY
    return call.request.form


def _live(call: Call, view: str) -> dict[str, Any]:
    """Page context of a view that refreshes itself: its name and its stamp as of now (taken
    before the page reads anything, so a change meanwhile shows as one more refresh)."""
    try:
        stamp = inventory.stamps(call.services)[view]
    except ConsoleQueryError:
        stamp = ""
    return {"live": view, "stamp": stamp}


def _see(location: str) -> Response:
    return redirect(location, code=303)


# --- shell --------------------------------------------------------------------------------
def home(call: Call) -> Response:
    return _see(url("entities"))


def static_file(call: Call) -> Response:
    found = static(str(call.values["name"]))
    return found if found is not None else _not_found("no such console file")


def stamp(call: Call) -> Response:
    """What the live refresh polls: a value per view that changes with what the view shows."""
    try:
        body = inventory.stamps(call.services)
    except ConsoleQueryError as exc:
        body = {"error": str(exc)}
    return Response(json.dumps(body), mimetype="application/json")


# --- entities -----------------------------------------------------------------------------
def entities_index(call: Call) -> Response:
    live = _live(call, "entities")
    try:
        found = inventory.entities(call.services)
    except ConsoleQueryError as exc:
        return _query_failed(exc, "entities")
    by_project: dict[str, list[inventory.EntitySummary]] = {}
    for summary in found:
        by_project.setdefault(summary.project, []).append(summary)
    return page(
        "entities.html",
        active="entities",
        **live,
        by_project=by_project,
        new_project=call.request.args.get("project", ""),
        new_entity=call.request.args.get("entity", ""),
    )


def _scope(call: Call) -> tuple[str, str]:
    return str(call.values["projectId"]), str(call.values["entity"])


def documents_table(call: Call) -> Response:
    live = _live(call, "entities")
    project, entity = _scope(call)
    args = call.request.args
    filter_text, sort_text = args.get("filter", ""), args.get("sort", "")
    error: str | None = None
    result: documents.DocumentPage | None = None
    size = documents.DEFAULT_PAGE_SIZE
    try:
        size = documents.page_size(args.get("size"))
        query = documents.parse_filter(filter_text)
        sort = documents.parse_sort(sort_text)
        result = documents.document_page(
            call.services.store, project, entity, query, sort, size, args.get("cursor")
        )
    except ConsoleInputError as exc:
        error = str(exc)
    return page(
        "documents.html",
        status=200 if error is None else 400,
        active="entities",
        **live,
        project=project,
        entity=entity,
        filter_text=filter_text,
        sort_text=sort_text,
        size=size,
        sizes=documents.PAGE_SIZES,
        error=error,
        result=result,
        compact=documents.compact,
        notice=_notice(call),
    )


def _notice(call: Call) -> str | None:
    """The line that says what the last change did (carried by the redirect's query)."""
    args = call.request.args
    if args.get("deleted"):
        return f"Deleted document {args['deleted']}."
    if args.get("saved"):
        return "Saved."
    if args.get("created"):
        return "Created."
    if args.get("unchanged"):
        return "Nothing to save: the document is unchanged."
    if args.get("role"):
        return f"{args.get('email', '')} is now {args['role']}."
    if args.get("removed"):
        return f"Deleted file {args['removed']}."
    return None


def export_documents(call: Call) -> Response:
    project, entity = _scope(call)
    args = call.request.args
    fmt = args.get("format", "jsonl")
    try:
        query = documents.parse_filter(args.get("filter", ""))
        sort = documents.parse_sort(args.get("sort", ""))
        spool = documents.export(call.services.store, project, entity, query, sort, fmt)
    except ConsoleInputError as exc:
        return page("not_found.html", status=400, message=str(exc), active="entities")
    mimetype = {"json": "application/json", "jsonl": "application/x-ndjson", "csv": "text/csv"}
    response = Response(
        wrap_file(call.request.environ, spool), mimetype=mimetype[fmt], direct_passthrough=True
    )
    filename = "".join(c if c.isalnum() or c in "-_" else "_" for c in entity)[:100] or "export"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


def _document_page(
    call: Call,
    document: dict[str, Any],
    *,
    draft: str | None = None,
    base: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    project, entity = _scope(call)
    return page(
        "document.html",
        status=status,
        active="entities",
        project=project,
        entity=entity,
        document=document,
        shown=documents.pretty(document),
        draft=documents.pretty(document) if draft is None else draft,
        base=documents.fingerprint(document) if base is None else base,
        error=error,
        notice=_notice(call),
    )


def document_view(call: Call) -> Response:
    project, entity = _scope(call)
    doc_id = str(call.values["id"])
    try:
        document = call.services.store.get(project, entity, doc_id)
    except QueryError as exc:
        return _not_found(str(exc))
    if document is None:
        return _not_found(f"no document {doc_id} in {project} / {entity}")
    return _document_page(call, document)


def save_document(call: Call) -> Response:
    project, entity = _scope(call)
    doc_id = str(call.values["id"])
    store = call.services.store
    draft = _form(call).get("document", "")
    base = _form(call).get("base", "")
    current = store.get(project, entity, doc_id)
    if current is None:
        return _not_found(f"document {doc_id} was deleted meanwhile; nothing was saved")
    if base != documents.fingerprint(current):
        return _document_page(
            call,
            current,
            draft=draft,
            error="the document changed since you opened it: nothing was saved. It now reads as"
            " shown; your version is in the editor (save it again to replace the current one).",
            status=409,
        )
    try:
        update = documents.edit_update(current, documents.parse_json(draft, "the document"))
        if update is None:
            return _see(url("entities", project, entity, "doc", doc_id, unchanged="1"))
        # Only the fields that differ are written: a change the app made meanwhile to another
        # field (between the check above and this write) is kept.
        if store.update(project, entity, doc_id, update) is None:
            return _not_found(f"document {doc_id} was deleted meanwhile; nothing was saved")
    except (ConsoleInputError, QueryError) as exc:
        return _document_page(call, current, draft=draft, base=base, error=str(exc), status=400)
    return _see(url("entities", project, entity, "doc", doc_id, saved="1"))


def delete_document(call: Call) -> Response:
    project, entity = _scope(call)
    doc_id = str(call.values["id"])
    try:
        deleted = call.services.store.delete(project, entity, doc_id)
    except QueryError as exc:
        return _not_found(str(exc))
    if not deleted:
        return _not_found(f"no document {doc_id} in {project} / {entity}: nothing was deleted")
    return _see(url("entities", project, entity, deleted=doc_id))


def new_document_form(call: Call) -> Response:
    project, entity = _scope(call)
    return page(
        "new_document.html",
        active="entities",
        project=project,
        entity=entity,
        draft="{\n}\n",
        error=None,
    )


def create_document(call: Call) -> Response:
    project, entity = _scope(call)
    draft = _form(call).get("document", "")
    try:
        body = documents.parse_json(draft, "the document")
        if not isinstance(body, dict):
            raise ConsoleInputError("the document must be a JSON object")
        created = call.services.store.create(project, entity, body, None)
    except (ConsoleInputError, QueryError) as exc:
        return page(
            "new_document.html",
            status=400,
            active="entities",
            project=project,
            entity=entity,
            draft=draft,
            error=str(exc),
        )
    return _see(url("entities", project, entity, "doc", str(created["_id"]), created="1"))


def new_entity(call: Call) -> Response:
    """The Entities view's "new document" form: to the create page of the named entity."""
    project = call.request.args.get("project", "").strip()
    entity = call.request.args.get("entity", "").strip()
    if not project or not entity:
        return page(
            "not_found.html",
            status=400,
            message="name both a project and an entity",
            active="entities",
        )
    return _see(url("entities", project, entity, "new"))


# --- users --------------------------------------------------------------------------------
def users(call: Call) -> Response:
    live = _live(call, "users")
    project = _project_arg(call)
    try:
        pending = inventory.pending_codes(call.services, project, time.time())
        projects = inventory.projects(call.services)
    except ConsoleQueryError as exc:
        return _query_failed(exc, "users")
    return page(
        "users.html",
        active="users",
        **live,
        project=project,
        projects=projects,
        users=call.services.users.list_users(project),
        roles=ROLES,
        pending=pending,
        now=time.time(),
        notice=_notice(call),
    )


def set_role(call: Call) -> Response:
    form = _form(call)
    project, email, role = form.get("projectId", ""), form.get("email", ""), form.get("userRole")
    try:
        call.services.users.set_role(project, email, role or "")
    except EmulatorError as exc:
        return page("not_found.html", status=400, message=exc.message, active="users")
    back = form.get("back") or None
    return _see(url("users", project=back, role=role, email=email))


# --- outbox -------------------------------------------------------------------------------
def outbox(call: Call) -> Response:
    live = _live(call, "outbox")
    project = _project_arg(call)
    try:
        projects = inventory.projects(call.services)
    except ConsoleQueryError as exc:
        return _query_failed(exc, "outbox")
    messages = call.services.outbox.messages(project)
    return page(
        "outbox.html",
        active="outbox",
        **live,
        project=project,
        projects=projects,
        total=len(messages),
        messages=messages[::-1][:OUTBOX_SHOWN],
    )


def _message(call: Call) -> dict[str, Any] | None:
    number = str(call.values["message"])
    if not number.isdecimal() or len(number) > 18:
        return None
    wanted = int(number)
    return next((m for m in call.services.outbox.messages() if m["id"] == wanted), None)


def outbox_message(call: Call) -> Response:
    message = _message(call)
    if message is None:
        return _not_found(f"no message #{call.values['message']} in the outbox")
    return page("message.html", active="outbox", message=message)


def outbox_html(call: Call) -> Response:
    message = _message(call)
    if message is None or not isinstance(message.get("html"), str):
        return _not_found("this message has no HTML part")
    return mail_html(message["html"])


# --- files --------------------------------------------------------------------------------
def files(call: Call) -> Response:
    live = _live(call, "files")
    storage: FileStorage = call.services.files
    project = _project_arg(call)
    stored = storage.stored_files()
    try:
        owners = inventory.project_of_folder(call.services, {f.folder for f in stored})
        projects = inventory.projects(call.services)
    except ConsoleQueryError as exc:
        return _query_failed(exc, "files")
    rows = []
    for item in stored:
        owner = owners.get(item.folder)
        if project is not None and owner != project:
            continue
        mimetype = mimetypes.guess_type(item.name)[0] or "application/octet-stream"
        link = None if owner is None else storage.url_path(owner, item.file_id, item.name)
        rows.append(
            {
                "file": item,
                "project": owner,
                "type": mimetype,
                "link": link,
                "preview": link is not None and mimetype in PREVIEW_TYPES,
            }
        )
    return page(
        "files.html",
        active="files",
        **live,
        project=project,
        projects=projects,
        total=len(rows),
        rows=rows[:FILES_SHOWN],
        notice=_notice(call),
    )


def delete_file(call: Call) -> Response:
    form = _form(call)
    folder, file_id, name = form.get("folder", ""), form.get("fileId", ""), form.get("name", "")
    if not call.services.files.remove_stored(folder, file_id, name):
        return _not_found(f"no file {name} ({file_id}) in {folder}: nothing was deleted")
    return _see(url("files", project=form.get("back") or None, removed=name))


# --- events -------------------------------------------------------------------------------
def events(call: Call) -> Response:
    live = _live(call, "events")
    try:
        found = conversations.overview(call.services)
    except ConsoleQueryError as exc:
        return _query_failed(exc, "events")
    turns = found.turns
    return page(
        "events.html",
        active="events",
        **live,
        overview=found,
        turns=turns,
        failed=sum(turn.failed for turn in turns),
        charts=charts.all_charts(turns, found.events),
        sessions=found.sessions[: conversations.SESSIONS_SHOWN],
        window=conversations.WINDOW,
        ms=charts.ms_label,
    )


def session_view(call: Call) -> Response:
    live = _live(call, "events")
    session_id = str(call.values["session"])
    try:
        found = conversations.session(call.services, session_id)
    except ConsoleQueryError as exc:
        return _query_failed(exc, "events")
    if found is None:
        return _not_found(f"no events of session {session_id}")
    return page(
        "session.html",
        active="events",
        **live,
        session=found,
        timeline=found.timeline(),
        bars=charts.turn_timeline,
        is_turn=lambda item: isinstance(item, conversations.Turn),
        pretty=documents.pretty,
        ms=charts.ms_label,
        text=conversations.text,
    )


Handler = Callable[[Call], Response]
_UI = "/_emulator/ui"
_DOCS = _UI + "/entities/<projectId>/<entity>"
#: What the live refresh polls (the emulator's request log leaves it out).
STAMP_PATH = _UI + "/stamp"
#: (path, methods, handler): every route is private (app.py registers them so).
ROUTES: list[tuple[str, list[str], Handler]] = [
    (_UI + "/", ["GET"], home),
    (_UI + "/static/<name>", ["GET"], static_file),
    (STAMP_PATH, ["GET"], stamp),
    (_UI + "/entities", ["GET"], entities_index),
    (_UI + "/entities/new", ["GET"], new_entity),
    (_DOCS, ["GET"], documents_table),
    (_DOCS + "/export", ["GET"], export_documents),
    (_DOCS + "/new", ["GET"], new_document_form),
    (_DOCS + "/new", ["POST"], create_document),
    (_DOCS + "/doc/<id>", ["GET"], document_view),
    (_DOCS + "/doc/<id>", ["POST"], save_document),
    (_DOCS + "/doc/<id>/delete", ["POST"], delete_document),
    (_UI + "/users", ["GET"], users),
    (_UI + "/users/role", ["POST"], set_role),
    (_UI + "/outbox", ["GET"], outbox),
    (_UI + "/outbox/<message>", ["GET"], outbox_message),
    (_UI + "/outbox/<message>/html", ["GET"], outbox_html),
    (_UI + "/files", ["GET"], files),
    (_UI + "/files/delete", ["POST"], delete_file),
    (_UI + "/events", ["GET"], events),
    (_UI + "/events/session/<path:session>", ["GET"], session_view),
]
