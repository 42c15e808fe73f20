"""`baomi witness serve`: a small witness another department or machine runs (C2SP tlog-witness).

It needs no database: its key and state live in one directory. It co-signs a log's checkpoint
only after checking the log's signature and a consistency proof from the size it last co-signed;
409 on a size conflict (body: its size), 422 on a bad proof.
"""

from __future__ import annotations

from pathlib import Path

import typer
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse

from baomi.audit.checkpoint import CheckpointError, Verifier
from baomi.audit.witness import Witness, WitnessError, parse_request
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
