"""`baomi witness serve`: a small witness another department or machine runs (C2SP tlog-witness).

It needs no database: its key and state live in one directory. It co-signs a log's checkpoint
only after checking the log's signature and a consistency proof from the size it last co-signed;
409 on a size conflict (body: its size), 422 on a bad proof. It never goes back by itself:
`baomi witness accept-restore`, run by its operator, takes it back to a restored log's checkpoint.
"""

from __future__ import annotations

from pathlib import Path

import typer
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from baomi.audit.checkpoint import CheckpointError, Verifier
from baomi.audit.witness import Witness, WitnessError, parse_request
from baomi.audit.witness_client import PINNED_LOG_KEY
from baomi.cli.output import console, fail

app = typer.Typer(help="Run a witness that co-signs audit-log checkpoints.", no_args_is_help=True)


def create_witness_app(witness: Witness) -> FastAPI:
    """Return the witness's HTTP API."""
    api = FastAPI(title="baomi witness", docs_url=None, redoc_url=None, openapi_url=None)

    @api.post("/add-checkpoint")
    async def add_checkpoint(request: Request) -> PlainTextResponse:
        try:
            text = (await request.body()).decode("utf-8")
            line = witness.add_checkpoint(parse_request(text))
        except UnicodeDecodeError:
            return PlainTextResponse("body is not UTF-8\n", status_code=400)
        except WitnessError as exc:
            media = "text/x.tlog.size" if exc.status == 409 else "text/plain"
            return PlainTextResponse(exc.body, status_code=exc.status, media_type=media)
        return PlainTextResponse(line)

    @api.get("/checkpoint")
    def latest(origin: str) -> PlainTextResponse:
        text = witness.latest(origin)
        if text is None:
            return PlainTextResponse("no checkpoint co-signed for this log\n", status_code=404)
        return PlainTextResponse(text)

    @api.get("/restores")
    def restores(origin: str) -> JSONResponse:
        # The log's verifiers compare these with the restores the log itself accepted.
        return JSONResponse(witness.restores(origin))

    @api.get("/key")
    def key() -> PlainTextResponse:
        return PlainTextResponse(witness.signer.verifier.vkey + "\n")

    return api


@app.command()
def serve(
    directory: Path = typer.Option(..., "--dir", help="Witness key and state directory."),
    log_key: list[str] = typer.Option(..., "--log-key", help="Verifier key of a log to follow."),
    name: str | None = typer.Option(None, help="Witness name (first run only)."),
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8700),
) -> None:
    """Serve the witness over HTTP."""
    try:
        witness = Witness(directory, [Verifier.parse(k) for k in log_key], name)
    except (CheckpointError, OSError) as error:
        fail(str(error))
    console.print(f"witness key: {witness.signer.verifier.vkey}")
    uvicorn.run(create_witness_app(witness), host=host, port=port, log_level="info")


@app.command("accept-restore")
def accept_restore(
    directory: Path = typer.Option(..., "--dir", help="The witness's key and state directory."),
    checkpoint: Path = typer.Option(
        ..., "--checkpoint", help="The restored log's checkpoint file, as its officer names it."
    ),
    log_key: list[str] = typer.Option(
        [], "--log-key", help="Verifier key of the log (default: the one a local witness pins)."
    ),
    yes: bool = typer.Option(False, "--yes", help="Accept without asking again."),
) -> None:
    """Take the witness back to a restored log's checkpoint, as the witness's operator.

    The witness keeps the size it gives up as its high-water mark and a record of the restore,
    which the log's verifiers see and match against the log's own acceptance.
    """
    pinned = directory / PINNED_LOG_KEY
    if not (directory / "witness.key").is_file():
        fail(f"no witness in {directory} (witness.key is missing)")
    if not log_key and not pinned.is_file():
        fail(f"the witness in {directory} pins no log: give the log's key with --log-key")
    try:
        keys = log_key or [pinned.read_text()]
        witness = Witness.existing(directory, [Verifier.parse(k) for k in keys])
        note = checkpoint.read_text(encoding="utf-8")
    except (CheckpointError, OSError, UnicodeDecodeError) as error:
        fail(str(error))
    origin, _, rest = note.partition("\n")
    state = witness.state(origin) or {"size": 0}
    restored = rest.partition("\n")[0]
    console.print(
        f"The witness co-signed {origin} up to {state['size']}; accepting goes back to "
        f"{restored}. It keeps {state['size']} as its high-water mark and a record of this "
        "restore, which the log's verifiers see."
    )
    if not yes:
        typer.confirm("Accept this restore?", abort=True)
    try:
        record = witness.accept_restore(note)
    except WitnessError as error:
        fail(str(error))
    console.print(
        f"Accepted: the witness co-signed checkpoint {record['restored_size']} and continues "
        f"from it; the log may seal again (`baomi audit seal`)."
    )
