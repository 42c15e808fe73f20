"""Invented customer records for the demo: all five kinds of C2.1 data, deterministic per seed.

Every record states its source and lawful basis (C4.1.1), and no two share an identifier — an
ID number or credit code, a phone, an e-mail, their contacts' included — because filing one
that 查重 finds already on file is refused (C4.1.3).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from baomi.crypto import normalize
from baomi.customers.schemas import (
    CommunicationIn,
    Contact,
    CustomerIn,
    LawfulBasis,
    PaymentMethod,
    Purchase,
)
from baomi.demo.extra import faker_for
from baomi.demo.identifiers import bank_card, credit_code, mobile, resident_id

TODAY = date(2026, 1, 15)
NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
LEVELS = ("normal", "secret", "confidential")
LEVEL_WEIGHTS = (5, 3, 2)
PRODUCTS = (
    ("工业传感器套件", 3200),
    ("智能仓储管理系统", 186000),
    ("数控机床刀具组", 8600),
    ("ERP 软件年度授权", 48000),
    ("年度维保服务包", 26000),
    ("冷链温控终端", 1450),
    ("光伏逆变器", 9800),
    ("实验室检测耗材", 620),
)
COMPETITORS = ("西门子", "施耐德电气", "汇川技术", "用友", "金蝶", "海康威视", "霍尼韦尔")
SOURCES = ("展会名片", "官网询价表单", "老客户转介绍", "电话拜访", "招投标平台公告")
SECRETS = (
    "采购负责人私下透露今年预算上限约 {n} 万元，勿外传。",
    "客户正在与 {c} 谈独家代理，价格底线需保密。",
    "法人代表近期涉及民事诉讼，回款风险需重点关注。",
    "对方财务总监为前同事介绍，沟通中提到的股权变动尚未公开。",
    "客户计划下季度关闭一处工厂，相关信息未对外披露。",
)
NOTES = (
    "{d}电话沟通，对方确认样机测试通过，希望下周给出正式报价。",
    "{d}上门拜访，参观了生产线，现场讨论了 {p} 的安装方案。",
    "{d}会议纪要：客户关注交付周期与售后响应时间，要求 4 小时到场。",
    "{d}微信沟通，客户询问分期付款与发票开具方式。",
    "{d}邮件往来，已发送合同草稿，等待法务意见。",
)
CHANNELS = ("phone", "visit", "meeting", "wechat", "email")


@dataclass(frozen=True, slots=True)
class DemoCustomer:
    customer_in: CustomerIn
    communications: list[CommunicationIn]
    # (filename, content type, bytes) of a small file under the first communication, if any.
    attachment: tuple[str, str, bytes] | None


class CustomerFactory:
    """Draws customers from one Faker and one Random, both seeded: the same seed, the same data."""

    def __init__(self, seed: int, reserved_phones: set[str]) -> None:
        self.fake = faker_for("zh_CN")
        self.fake.seed_instance(seed)
        # Reproducible demo data, not secrets: a seeded PRNG is the point here.
        self.rng = random.Random(seed)  # noqa: S311
        self.phones = reserved_phones
        self.taken: set[str] = set()  # e-mails and ID numbers drawn so far, normalised

    def _unique(self, draw: Callable[[], str], normal: Callable[[str], str]) -> str:
        for _ in range(100):
            value = draw()
            if normal(value) not in self.taken:
                self.taken.add(normal(value))
                return value
        raise RuntimeError("could not draw an identifier not on file yet")

    def _email(self) -> str:
        return self._unique(self.fake.email, normalize.email)

    def _id_number(self, company: bool) -> str:
        draw = credit_code if company else resident_id
        return self._unique(lambda: draw(self.rng), normalize.id_number)

    def _level(self) -> str:
        return self.rng.choices(LEVELS, weights=LEVEL_WEIGHTS)[0]

    def _contacts(self) -> list[Contact]:
        return [
            Contact(
                name=self.fake.name(),
                title=self.fake.job()[:100],
                phones=[mobile(self.fake, self.phones)],
                emails=[self._email()],
            )
            for _ in range(self.rng.randint(1, 3))
        ]

    def _purchases(self) -> tuple[list[Purchase], str, str]:
        bought = self.rng.sample(PRODUCTS, self.rng.randint(1, 4))
        purchases = [
            Purchase(
                date=(TODAY - timedelta(days=self.rng.randint(20, 900))).isoformat(),
                item=item,
                amount=f"{price * self.rng.randint(1, 40):.2f}",
            )
            for item, price in bought
        ]
        prices = "；".join(
            f"{item} 单价 ¥{price:,}，{self.rng.randint(5, 50)} 台以上"
            f" {self.rng.randint(85, 97)} 折"
            for item, price in bought
        )
        return purchases, prices, bought[0][0]

    def _payments(self) -> list[PaymentMethod]:
        methods = [PaymentMethod(type="bank_card", account=bank_card(self.rng))]
        extra = self.rng.choice(("bank_transfer", "alipay", "wechat_pay", None))
        if extra:
            methods.append(PaymentMethod(type=extra, account=""))
        return methods

    def _communications(self, product: str) -> list[CommunicationIn]:
        entries = []
        for _ in range(self.rng.randint(1, 3)):
            at = NOW - timedelta(days=self.rng.randint(1, 300), hours=self.rng.randint(0, 8))
            text = self.rng.choice(NOTES).format(d=f"{at:%Y年%m月%d日}", p=product)
            entries.append(
                CommunicationIn(occurred_at=at, channel=self.rng.choice(CHANNELS), text=text)
            )
        return entries

    def _attachment(self, product: str) -> tuple[str, str, bytes] | None:
        if self.rng.random() >= 0.08:
            return None
        if self.rng.random() < 0.5:
            rows = [f"{product},{self.rng.randint(1, 30)},{self.rng.randint(500, 9000)}.00"]
            body = "品名,数量,单价\n" + "\n".join(rows) + "\n"
            return "报价单.csv", "text/csv", body.encode()
        memo = f"会议纪要\n议题：{product} 采购\n结论：客户要求补充技术参数后再议。\n"
        return "会议纪要.txt", "text/plain", memo.encode()

    def customer(
        self,
        *,
        handler_id: str,
        name: str | None = None,
        phone: str | None = None,
        level: str | None = None,
    ) -> DemoCustomer:
        """Draw one customer (company or private person) handled by `handler_id`."""
        company = self.rng.random() < 0.6
        purchases, prices, product = self._purchases()
        competitor = self.rng.choice(COMPETITORS)
        customer_in = CustomerIn(
            name=name or (self.fake.company() if company else self.fake.name()),
            level=level or self._level(),
            contacts=self._contacts() if company else None,
            phones=[phone or mobile(self.fake, self.phones)],
            emails=[self._email()],
            address=self.fake.address(),
            id_number=self._id_number(company),
            purchases=purchases,
            contract_terms=(
                f"框架合同 {self.rng.randint(1, 3)} 年，账期 {self.rng.choice((30, 60, 90))} 天，"
                f"质保 {self.rng.choice((12, 24, 36))} 个月，违约金为合同金额的 "
                f"{self.rng.randint(5, 20)}%。"
            ),
            prices=prices,
            payment_methods=self._payments(),
            requirements=f"需要 {product} 与现有系统对接，要求本地化部署和中文培训。",
            purchase_intent=(
                f"计划 {self.rng.randint(1, 4)} 个季度内追加采购，预算约 "
                f"{self.rng.randint(5, 300)} 万元。"
            ),
            competitor_products=f"目前在用 {competitor} 的同类产品，合同 {TODAY.year + 1} 年到期。",
            notes=self.rng.choice(SECRETS).format(n=self.rng.randint(20, 500), c=competitor),
            # C4.1.1: stated for every record, never left to a default.
            source=self.rng.choice(SOURCES),
            lawful_basis=LawfulBasis.CONTRACT if company else LawfulBasis.CONSENT,
            handler_id=handler_id,
        )
        return DemoCustomer(
            customer_in=customer_in,
            communications=self._communications(product),
            attachment=self._attachment(product),
        )
