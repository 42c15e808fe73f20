"""The customer page and its edit form warn of identifiers in unprotected fields (issue 12,
C4.3.2), in Chinese first, naming field and kind and never repeating the value as a warning."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from baomi.customers.vault import Vault
from tests.detect.corpus import ID3
from tests.support.org import Org
from tests.web.customers_support import file_customer
from tests.web.forms import browser, login


def test_the_record_and_its_form_warn_of_identifiers_in_free_text(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    customer_id = file_customer(
        engine,
        vault,
        org,
        "zhangsan",
        name="杭州甲公司",
        requirements="联系采购王工 13912345678",
        competitor_products=f"对方法人证件 {ID3}",
    )
    with browser(app) as client:
        login(client, "zhangsan")
        for path in (f"/customers/{customer_id}", f"/customers/{customer_id}/edit"):
            html = client.get(path).text
            warning = html.split("data-flags", 1)[1].split("</div>", 1)[0]
            assert "此记录的非敏感字段中含有身份标识信息" in warning
            assert "需求" in warning and "电话号码 × 1" in warning
            assert "居民身份证号 × 1" in warning
            assert "13912345678" not in warning and ID3 not in warning


def test_a_clean_record_shows_no_warning(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    customer_id = file_customer(engine, vault, org, "zhangsan", name="杭州乙公司")
    with browser(app) as client:
        login(client, "zhangsan")
        assert "data-flags" not in client.get(f"/customers/{customer_id}").text
