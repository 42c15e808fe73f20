from tests.support.api import create_customer, login


def test_create_and_read(client):
    h = login(client, "zhangsan")
    c = create_customer(client, h, level="机密", phones=["13800138000"], id_number="11010519491231002X", notes="秘密备注")
    assert c["data"]["phones"] == ["138****8000"]
    r = client.get(f"/api/v1/customers/{c['id']}", headers=h)
    assert r.status_code == 200, r.text
    r = client.get(f"/api/v1/customers/{c['id']}", headers=login(client, "zhaoliu"))
    assert r.status_code == 404, r.text
    assert r.headers["content-type"] == "application/problem+json"
    r = client.post(f"/api/v1/customers/{c['id']}/reveal", headers=h, json={"fields": ["phones", "notes"], "reason": "call back"})
    assert r.json()["data"] == {"phones": ["+8613800138000"], "notes": "秘密备注"}, r.text
    r = client.get("/api/v1/customers/check", params={"phone": "138 0013 8000"}, headers=login(client, "zhaoliu"))
    assert r.json() == {"exists": True, "handler": {"username": "zhangsan", "department": "华东销售部"}}
    r = client.get("/api/v1/customers", params={"q": "测试"}, headers=login(client, "wangwu"))
    assert r.json()["total"] == 1, r.text
