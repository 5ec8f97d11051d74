"""The pilot's cast and collateral, generated from a seed (no I/O here).

Regions chengdu, deyang, mianyang, leshan; three pledgee banks; a backstop buyer; a
risk-compensation fund; pledgors (the defaulted borrowers); bidders (enterprises and
individuals, some from outside the pilot's four regions); co-owners holding priority rights;
and 24 foreclosed patents, four in each of the six advantage industries, each with a fate that
the bidders' valuations make happen (sold in round 1, in round 2, in the sell-off, to the
backstop buyer, in lieu, after a winner's default, to a co-owner on a tie).
"""
import math
import random

YUAN = 100  # fen
WAN = 10_000 * YUAN  # 10k CNY
DAY = 86_400_000
HOUR = 3_600_000
MINUTE = 60_000

REGIONS = ["chengdu", "deyang", "mianyang", "leshan"]
INDUSTRIES = [
    "electronic_information",
    "equipment_manufacturing",
    "food_light_textile",
    "advanced_materials",
    "energy_chemical",
    "medicine_health",
]

BANKS = [
    ("Bank of Chengdu", "BoCD", "chengdu", 5000),  # risk-fund share of a shortfall: fund 50 / bank 50
    ("Mianyang Commercial Bank", "MYCB", "mianyang", 5000),
    ("Leshan Rural Commercial Bank", "LSRCB", "leshan", 5400),  # fund/bank/insurer/appraiser 54:26:16:4
]

PLEDGORS = [
    ("Chengdu Ruixin Optoelectronics Co., Ltd.", "chengdu"),
    ("Chengdu Tianyi Biopharma Co., Ltd.", "chengdu"),
    ("Chengdu Jinsha Food Machinery Co., Ltd.", "chengdu"),
    ("Deyang Dongfang Heavy Castings Co., Ltd.", "deyang"),
    ("Deyang Hongda Fine Chemicals Co., Ltd.", "deyang"),
    ("Deyang Longxing Textile Co., Ltd.", "deyang"),
    ("Mianyang Jiuzhou Sensing Technology Co., Ltd.", "mianyang"),
    ("Mianyang Changhong Smart Materials Co., Ltd.", "mianyang"),
    ("Mianyang Fulin Medical Devices Co., Ltd.", "mianyang"),
    ("Leshan Emei Silicon Materials Co., Ltd.", "leshan"),
    ("Leshan Jiayang Tea & Food Co., Ltd.", "leshan"),
    ("Leshan Minjiang Energy Storage Co., Ltd.", "leshan"),
]

CO_OWNERS = [
    ("Sichuan University Technology Transfer Center", "chengdu"),
    ("UESTC Technology Transfer Office", "chengdu"),
    ("Southwest Jiaotong University Tech Transfer", "chengdu"),
    ("Southwest University of Science and Technology", "mianyang"),
    ("Leshan Normal University IP Office", "leshan"),
]

BIDDER_ENTERPRISES = [
    ("Chengdu Xinyuan Semiconductor Co., Ltd.", "chengdu"),
    ("Chengdu Kanghong Pharmaceutical Group", "chengdu"),
    ("Chengdu Zhongke Intelligent Equipment Co.", "chengdu"),
    ("Chengdu Baijia Foods Co., Ltd.", "chengdu"),
    ("Chengdu Xingguang New Materials Co.", "chengdu"),
    ("Chengdu Tongwei Solar Tech Co.", "chengdu"),
    ("Deyang Erzhong Precision Machinery Co.", "deyang"),
    ("Deyang Lanjian Chemical Co., Ltd.", "deyang"),
    ("Deyang Jianan Agricultural Products Co.", "deyang"),
    ("Deyang Tianyuan Robotics Co., Ltd.", "deyang"),
    ("Deyang Huaxi Biotech Co., Ltd.", "deyang"),
    ("Mianyang Sichuan Hi-Tech Electronics Co.", "mianyang"),
    ("Mianyang Ruilian Composite Materials Co.", "mianyang"),
    ("Mianyang Kexing Medical Instruments Co.", "mianyang"),
    ("Mianyang Anxian Textile Machinery Co.", "mianyang"),
    ("Mianyang Jiangyou Special Steel Co.", "mianyang"),
    ("Leshan Tongwei Polysilicon Co., Ltd.", "leshan"),
    ("Leshan Shawan Food Industry Co.", "leshan"),
    ("Leshan Wutongqiao Salt Chemical Co.", "leshan"),
    ("Leshan Dadu River Hydropower Tech Co.", "leshan"),
    ("Leshan Jiayang Electronics Co., Ltd.", "leshan"),
    ("Chongqing Liangjiang IP Investment Co.", "chongqing"),
    ("Xi'an Qinchuan Technology Transfer Co.", "xian"),
    ("Suining Tianqi Lithium Materials Co.", "suining"),
]

BIDDER_INDIVIDUALS = [
    ("Wang Lei", "chengdu"),
    ("Li Na", "chengdu"),
    ("Zhang Wei", "deyang"),
    ("Liu Yang", "deyang"),
    ("Chen Jing", "mianyang"),
    ("Yang Fan", "mianyang"),
    ("Zhao Min", "leshan"),
    ("Huang Qiang", "leshan"),
    ("Zhou Xiaoyu", "chengdu"),
    ("Wu Haitao", "mianyang"),
]

TITLES = {
    "electronic_information": [
        "Low-power 5G small-cell baseband scheduling method",
        "Millimetre-wave phased-array antenna calibration device",
        "Edge-computing video analytics chip architecture",
        "Industrial IoT time-sensitive networking gateway",
        "Infrared focal-plane array readout circuit",
    ],
    "equipment_manufacturing": [
        "Heavy-duty gas turbine blade cooling structure",
        "Hydraulic support for fully mechanised mining faces",
        "Large forging press servo control system",
        "Rail transit bogie fatigue monitoring device",
        "Welding robot seam-tracking method",
    ],
    "food_light_textile": [
        "Sichuan pepper oil low-temperature extraction process",
        "Fermented broad-bean paste rapid maturation method",
        "Ramie fibre degumming enzyme process",
        "Liquor (baijiu) solid-state fermentation monitoring system",
        "Tea polyphenol microencapsulation method",
    ],
    "advanced_materials": [
        "Silicon-carbon composite anode material and preparation",
        "High-purity polysilicon reduction furnace",
        "Basalt continuous fibre drawing process",
        "Titanium alloy powder for additive manufacturing",
        "Rare-earth permanent magnet grain boundary diffusion method",
    ],
    "energy_chemical": [
        "Sodium-ion battery electrolyte additive",
        "Shale gas fracturing fluid recovery process",
        "Vanadium redox flow battery stack seal",
        "Natural gas to acetylene plasma cracking method",
        "Hydrogen fuel cell membrane electrode assembly",
    ],
    "medicine_health": [
        "Traditional Chinese medicine granule fingerprint QC method",
        "Recombinant collagen expression strain",
        "Minimally invasive orthopaedic bone screw",
        "mRNA lipid nanoparticle formulation",
        "Portable blood glucose meter test strip",
    ],
}

# How each case is meant to go: the bidders' valuations, drawn per round, make it happen.
FATES = ["r1"] * 10 + ["r1_co"] + ["r2"] * 6 + ["sell_off"] * 3 + ["backstop", "in_lieu", "default", "co_tie"]


def round_fen(amount, unit=WAN):
    return max(unit, int(amount) // unit * unit)


def patent_number(rng, year, kind_digit):
    body = f"{year}{kind_digit}{rng.randrange(10**6, 10**7)}"
    digits = [int(c) for c in body]
    check = sum(d * w for d, w in zip(digits, [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5])) % 11
    return f"ZL{body}.{'X' if check == 10 else check}"


class World:
    """The whole cast, with each patent's loan and fate, from one seed."""

    def __init__(self, seed):
        rng = random.Random(f"world:{seed}")
        self.seed = seed
        self.banks = [{"name": n, "short": sh, "region": r, "share_bp": s, "kind": "bank"} for n, sh, r, s in BANKS]
        self.backstop = {"name": "Sichuan IP Operation Fund (backstop buyer)", "region": "chengdu",
                         "kind": "backstop", "funding": 40_000_000 * YUAN}
        self.risk_fund = {"name": "Sichuan IP Pledge Risk Compensation Fund", "region": "chengdu",
                          "kind": "risk_fund", "funding": 30_000_000 * YUAN}
        self.operator = {"name": "Tianfu IP Exchange disposal desk", "region": "chengdu", "kind": "operator"}
        self.pledgors = [{"name": n, "region": r, "kind": "enterprise"} for n, r in PLEDGORS]
        self.co_owners = [{"name": n, "region": r, "kind": "enterprise", "funding": 15_000_000 * YUAN}
                          for n, r in CO_OWNERS]
        self.bidders = []
        for n, r in BIDDER_ENTERPRISES:
            self.bidders.append({"name": n, "region": r, "kind": "enterprise"})
        for n, r in BIDDER_INDIVIDUALS:
            self.bidders.append({"name": n, "region": r, "kind": "individual"})
        for b in self.bidders:
            big = b["kind"] == "enterprise"
            b["funding"] = round_fen(rng.uniform(25_000_000, 45_000_000) * YUAN if big
                                     else rng.uniform(12_000_000, 20_000_000) * YUAN, 100 * WAN)
            b["interests"] = rng.sample(INDUSTRIES, 3 if big else 2)
            b["style"] = rng.choices(["proxy", "steady", "jumper", "sniper"], [35, 35, 15, 15])[0]
        # The licensor of the licence-unit market and the seller of the cross-region listing.
        self.licensor = {"name": "Chengdu Xinhe Microelectronics Co., Ltd.", "region": "chengdu",
                         "kind": "enterprise", "funding": 1_000_000 * YUAN}
        self.lister = {"name": "Mianyang Jiuzhou Radar Technology Co., Ltd.", "region": "mianyang",
                       "kind": "enterprise", "funding": 500_000 * YUAN}
        self.patents = self._patents(rng)

    def _patents(self, rng):
        fates = list(FATES)
        rng.shuffle(fates)
        # The backstop case must match the standing offer (advanced materials); the in-lieu case
        # must match none (food and light textile). Swap them into such slots.
        slots = [ind for ind in INDUSTRIES for _ in range(4)]
        def place(fate, industry):
            i = fates.index(fate)
            j = next(k for k, ind in enumerate(slots) if ind == industry and fates[k] not in ("backstop", "in_lieu"))
            fates[i], fates[j] = fates[j], fates[i]
        place("backstop", "advanced_materials")
        place("in_lieu", "food_light_textile")
        high_ltv = {i for i, f in enumerate(fates) if f == "r2"}
        high_ltv = set(sorted(high_ltv)[:2]) | {fates.index("sell_off")}
        patents = []
        title_pool = {k: list(v) for k, v in TITLES.items()}
        for k, rng_t in title_pool.items():
            rng.shuffle(rng_t)
        for i, (industry, fate) in enumerate(zip(slots, fates)):
            pledgor = rng.randrange(len(self.pledgors))
            invention = rng.random() < 0.75
            year = rng.randint(2015, 2020) if invention else rng.randint(2019, 2022)
            valuation = round_fen(math.exp(rng.uniform(math.log(500_000), math.log(8_000_000))) * YUAN)
            ltv = rng.uniform(0.62, 0.70) if i in high_ltv else rng.uniform(0.25, 0.38)
            loan = round_fen(valuation * ltv, 1000 * YUAN)
            years_overdue = rng.uniform(0.5, 1.5)
            p = {
                "asset_id": patent_number(rng, year, 1 if invention else 2),
                "kind": "invention_patent" if invention else "utility_model",
                "title": title_pool[industry][i % 4],
                "industry": industry,
                "pledgor": pledgor,
                "region": self.pledgors[pledgor]["region"],
                "bank": rng.randrange(len(self.banks)),
                "valuation": valuation,
                "loan": loan,
                "interest": round_fen(loan * 0.055 * years_overdue, YUAN),
                "penalties": round_fen(loan * rng.uniform(0.005, 0.02), YUAN),
                "costs": round_fen(rng.uniform(8_000, 30_000) * YUAN, 100 * YUAN),
                "expires_at": _year_ms(year + (20 if invention else 10)),
                "fate": fate,
                "co_owner": None,
                "open_day": rng.uniform(0, 40),
            }
            patents.append(p)
        # Co-owners: the tie case and the losing co-owner case, plus three that never bid.
        need = [p for p in patents if p["fate"] in ("co_tie", "r1_co")]
        others = [p for p in patents if p["fate"] in ("r1", "r2")]
        for j, p in enumerate(need + rng.sample(others, 3)):
            p["co_owner"] = j % len(self.co_owners)
        return patents


def _year_ms(year):
    import datetime
    return int(datetime.datetime(year, 6, 30, tzinfo=datetime.timezone.utc).timestamp() * 1000)
