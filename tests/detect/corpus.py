"""A labelled corpus of sales notes for the detector (C4.1.1, C4.1.3): values and traps.

Each note is (text, the identifiers a careful reader would mark in it, as (kind, normalised
value)). The traps are what a salesperson's notes and ledgers are full of and what a digit-run
detector would call customer data: order and invoice numbers, dates, amounts, 17- and 18-digit
runs, card-like runs that fail Luhn, ID numbers with a wrong check digit or an impossible birth
date, service numbers. Every identifier is invented; each check digit is computed.

Two notes are honest misses, kept so the figures are not flattering: an order number that is
written exactly like a mobile number (no detector can tell), and a mobile number written with
dots, which the detector does not join (a dot also sits in every amount and version number).
"""

from __future__ import annotations

P1, P2, P3 = "+8613800138000", "+8613912345678", "+8618612345678"
L1, L2 = "+861065529988", "+8675586013388"
ID1 = "11010519940314074X"
ID2 = "310104197907124040"
ID3 = "420106198909200601"
ID_RETIRED = "440102197506120037"  # 广州东山区, merged into 越秀区 in 2005
U1 = "91110000600037341L"
U2 = "91350203171HU49D98"
U3 = "121101080479666972"  # an all-digit code (事业单位)
C1 = "6222021234567890128"
C2 = "6228480012345671"
C3 = "4367421234567896"
C4 = "9558800123456789015"
E1, E2 = "zhang.san@example.com", "li_si@corp-mail.cn"

NOTES: list[tuple[str, list[tuple[str, str]]]] = [
    ("客户张三，手机13800138000，下周回访。", [("phone", P1)]),
    ("联系电话：138 0013 8000（微信同号）", [("phone", P1)]),
    ("电话 139-1234-5678，座机 010-65529988", [("phone", P2), ("phone", L1)]),
    ("王经理 +86 186 1234 5678，邮箱 Zhang.San@Example.com", [("phone", P3), ("email", E1)]),
    ("１３９１２３４５６７８ 是她的私人号码", [("phone", P2)]),
    ("深圳办公室 (0755) 8601 3388，传真同号", [("phone", L2)]),
    ("两个号码：13800138000 13912345678，都打不通", [("phone", P1), ("phone", P2)]),
    ("Tel13800138000 / Mobile:18612345678", [("phone", P1), ("phone", P3)]),
    ("0086-139-1234-5678 是海外漫游时的写法", [("phone", P2)]),
    ("身份证号 11010519940314074X，已核对原件", [("id_number", ID1)]),
    ("身份证：110105 19940314 074x（小写x）", [("id_number", ID1)]),
    (f"老客户证件号{ID_RETIRED}，户籍在原东山区", [("id_number", ID_RETIRED)]),
    (f"法人代表身份证{ID2}，配偶{ID3}", [("id_number", ID2), ("id_number", ID3)]),
    (f"统一社会信用代码：{U1}", [("uscc", U1)]),
    (f"开票信息：名称 某某贸易有限公司，税号{U2.lower()}", [("uscc", U2)]),
    (f"事业单位代码 {U3}，地址见合同", [("uscc", U3)]),
    ("退款到卡号 6222 0212 3456 7890 128，户名张三", [("bank_card", C1)]),
    (
        f"农行借记卡{C2}，信用卡 {C3[:4]}-{C3[4:8]}-{C3[8:12]}-{C3[12:]}",
        [
            ("bank_card", C2),
            ("bank_card", C3),
        ],
    ),
    (f"工行老卡 {C4} 已挂失", [("bank_card", C4)]),
    ("对接人邮箱 li_si@corp-mail.cn；抄送 zhang.san@example.com。", [("email", E2), ("email", E1)]),
    (
        f"客户资料：李四 13912345678 {ID3} {E2} 卡号{C2}",
        [("phone", P2), ("id_number", ID3), ("email", E2), ("bank_card", C2)],
    ),
    ("QQ邮箱13800138000@qq.com 也能联系", [("email", "13800138000@qq.com")]),
    # Traps: nothing here is customer data.
    ("订单号 20230512000123456，金额 12,800.00 元，已发货。", []),
    ("订单号：202305120001234566（系统生成）", []),
    ("发票号码 04403190，发票代码 044031900111，开票日期 2023-05-12", []),
    ("合同金额￥1,280,000.00，分三期：2023年5月12日、2023年8月12日、2023年11月12日", []),
    ("运单号 SF1234567890123，快递单号 773012345678901", []),
    ("流水号20230512083015123，批次 17 位：12345678901234567", []),
    ("卡号 6222 0212 3456 7891（抄错了，校验不过）", []),
    ("身份证 110105199403140741（校验位错）", []),
    ("身份证 310104199902314047（2月31日，不存在）", []),
    ("客服热线 400-810-8888，投诉 95588", []),
    ("邮编 200120，QQ 123456789，分机 8021", []),
    ("采购 iPhone 15 Pro 256G 共 30 台，单价 7999 元，总价 239970 元", []),
    ("会议时间 14:30-16:00，会议室 1203，参会 12 人", []),
    ("编号 6234567890123451 的设备已入库", []),
    ("版本 v2.13.800138 升级；型号 MX-13800138000-B", []),
    ("报价单 Q2023-0512-0001，有效期至 2023-06-30", []),
    ("竞品价格 12800/13900/18600，折扣 8.5 折", []),
    ("税号校验不过：91320106ABCDEFGH18", []),
    ("卡号 62220 21234 56789 0128 请核对", [("bank_card", C1)]),
]
# The honest misses (see the module's docstring).
KNOWN_MISSES: list[tuple[str, list[tuple[str, str]]]] = [
    ("售后单号13800138001已关闭", []),
    ("名片上印的是 138.0013.8000", [("phone", P1)]),
]

CORPUS = NOTES + KNOWN_MISSES
