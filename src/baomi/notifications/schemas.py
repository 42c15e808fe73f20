"""API shapes of the inbox."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class NotificationOut(BaseModel):
    id: str
    kind: str
    params: dict[str, str | int | list[str] | None] = Field(
        description="ids, counts, colleagues' names and times; never customer data"
    )
    title: str
    body: str
    link: str | None = Field(description="a path inside the app")
    created_at: datetime
    read_at: datetime | None


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    total: int
    unread: int
    page: int
    page_size: int


class UnreadOut(BaseModel):
    unread: int


class MarkedOut(BaseModel):
    marked: int
