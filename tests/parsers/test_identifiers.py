"""Serial and contract extraction from free text: tables of what must and must not come out."""

from __future__ import annotations

import pytest

from parsers.identifiers import Identifiers, extract_identifiers

SERIALS_IN_TEXT = [
    ("S/N: 2214G-00417", ["2214G-00417"]),
    ("sn 2138g-00962", ["2138G-00962"]),
    ("nr seryjny: 2302G-01556", ["2302G-01556"]),
    ("numeru seryjnego 2302G-01556 nie pamiętam", ["2302G-01556"]),
    ("nr ser. 2250G-00044", ["2250G-00044"]),
    ("Serial#: 19JP288G0137", ["19JP288G0137"]),
    ("s/n: 16jp118d0093", ["16JP118D0093"]),
    ("Serial No SDNI4A00D123", ["SDNI4A00D123"]),
    ("Numer seryjny AP: 03052104180266", ["03052104180266"]),
    ("Serial #: BGD2917K02C,  Part #: 40-1000363-04", ["BGD2917K02C"]),
    ("SN:EXH3821K017", ["EXH3821K017"]),
    ("Ps#1 Serial Number: LBNNTMPL21094K", ["LBNNTMPL21094K"]),
    ("Numery seryjne: 2251G-00071 oraz 2251G-00083", ["2251G-00071", "2251G-00083"]),
    ("S/N: 2011G-00289, 2011G-00290", ["2011G-00289", "2011G-00290"]),
    (" - 04101908221536 (B-12)\n - 04101908221547 (B-13)", ["04101908221536", "04101908221547"]),
    ("Awaria 2 AP: 04101909170044 i 04101909170051.", ["04101909170044", "04101909170051"]),
    ("Numer seryjny\n2246G-00377", ["2246G-00377"]),
    ("show_tech_2011G-00299.log", ["2011G-00299"]),
    ("S/N 2011G-00289 … again S/N 2011g-00289", ["2011G-00289"]),
    ("Numer seryjny zasilacza nr 2: LBNNTMPL21562D", ["LBNNTMPL21562D"]),  # which unit: skipped like a word
    ("numer seryjny PSU2: LBNNTMPL21562D", ["LBNNTMPL21562D"]),
    ("padl sn2305g-00472", ["2305G-00472"]),  # the label glued to the value
    ("padł zasilacz LBNNTMPL22183D", ["LBNNTMPL22183D"]),  # a PSU serial right after the word for it
    ("PSU 2: LBNNTMPL24093D", ["LBNNTMPL24093D"]),
    ("UPS APC (S/N AS2214123456) też padł, a switch S/N 2214G-00417", ["2214G-00417"]),  # another maker's serial
    ("Cisco obok, nasz przełącznik: S/N LBNNTMPL21094K", ["LBNNTMPL21094K"]),  # the maker is not the label's
    # CSV exports, with ; or , and quoted cells, a BOM and CRLF; an empty cell keeps its place
    ("Name;PSU S/N\nvsp1;LBNNTMPL22108A\nvsp2;LBNNTMPL22109B\n", ["LBNNTMPL22108A", "LBNNTMPL22109B"]),
    ('\ufeff"Name","PSU1 SN","PSU2 SN"\r\n"a","LBNNTMPL22190C",""\r\n', ["LBNNTMPL22190C"]),
    # a column of a table whose header names it (an HTML table as html_text renders it)
    ("Model  Numer seryjny  Nr umowy\nX435  LBNNTMPL21562D  40235581\n\nKoniec", ["LBNNTMPL21562D"]),
    # values in quotes, emphasis or brackets; label typos; a label cell closed by a bracket
    ('SN "LBNNTMPL23055F"', ["LBNNTMPL23055F"]),
    ("numer seryjny: „LBNNTMPL22183D”, S/N: *LBNNTMPL23055G*", ["LBNNTMPL22183D", "LBNNTMPL23055G"]),
    ("numer serjny LBNNTMPL22071K, nr ser LBNNTMPL22071L", ["LBNNTMPL22071K", "LBNNTMPL22071L"]),
    ("Zasilacz 1 (Ps#1 Serial Number): LBNNTMPL21544C", ["LBNNTMPL21544C"]),
    # power supplies named by the word: with a unit number, in brackets, in a list, in bullets
    ("Zasilacz nr 1 (LBNNTMPL21315A)", ["LBNNTMPL21315A"]),
    ("Oba zasilacze: LBNNTMPL22190C i LBNNTMPL22190D", ["LBNNTMPL22190C", "LBNNTMPL22190D"]),
    (
        "Zasilacze:\n- LBNNTMPL21094K (rack 2)\n- LBNNTMPL21102K (rack 7)\n\nDzięki",
        ["LBNNTMPL21094K", "LBNNTMPL21102K"],
    ),
    ("S/N:\n1. LBNNTMPL21094A\n2. LBNNTMPL21094B\n3. padł też wentylator", ["LBNNTMPL21094A", "LBNNTMPL21094B"]),
    ("zdjęcie: tabliczka_2247G-00563-tyl.jpg", ["2247G-00563"]),  # a word after the dash, in a file name
    ("sn 2240G-00115, umowa40231177", ["2240G-00115"]),  # a list ends at another label glued to its number
    ("the faulty PSU in the new unit is LBNNTMPL23188D.", ["LBNNTMPL23188D"]),  # words between the PSU and it
    ("Cisco obok, nasz przełącznik: S/N LBNNTMPL21094K", ["LBNNTMPL21094K"]),  # our device named after the maker
    ("PSU serial numbers:\n• LBNNTMPL22311C – rack 1\n• LBNNTMPL22318C – rack 2", ["LBNNTMPL22311C", "LBNNTMPL22318C"]),
    ("both PSUs: LBNNTMPL22190E and LBNNTMPL22190F", ["LBNNTMPL22190E", "LBNNTMPL22190F"]),
    # a power-supply serial anywhere in a text that names a power supply, a paragraph after its label too
    ("Numer seryjny zasilacza, który padł już drugi raz w tym miesiącu:\n\nLBNNTMPL21094K", ["LBNNTMPL21094K"]),
    # a replacement's values told apart by a word
    ("Zasilacz stary S/N LBNNTMPL21094K, nowy - LBNNTMPL22011R", ["LBNNTMPL21094K", "LBNNTMPL22011R"]),
    ("S/N old: LBNNTMPL21094A, new: LBNNTMPL21094B", ["LBNNTMPL21094A", "LBNNTMPL21094B"]),
    ("S/N 2011G-00289 -> 2011G-00301", ["2011G-00289", "2011G-00301"]),
    # a record that names Extreme, or a device of no other maker, above a line naming another maker
    ("Model: SLX 9150\nLokalizacja: obok routera Cisco\nS/N: EXH3349M005", ["EXH3349M005"]),
    ("Urządzenie: przełącznik rdzeniowy\nLokalizacja: obok Cisco\nS/N: EXH3349M005", ["EXH3349M005"]),
    ("Core: Extreme SLX 9150\nS/N: EXH3349M005\nEdge: Cisco C9200\nS/N: FOC2318X05A", ["EXH3349M005"]),
    ("Padł router Cisco i nasz switch.\nS/N: EXH3349M005", ["EXH3349M005"]),  # prose, not a record
    ("Cisco C9200 wymieniony na SLX 9150, SN EXH3349M005", ["EXH3349M005"]),  # Extreme named last
    ("Extreme 5420F-24P | 2411G-00850\nHPE Aruba 2930F-24G | CN0AKP71LZ", ["2411G-00850"]),
    # a sentence wrapped by the mail client: the maker named on the line before
    (
        "stary przełącznik Cisco Catalyst 3750X-48P\n(S/N FDO1629P1AB) na nowy X465-48P, S/N 2249G-01166.",
        ["2249G-01166"],
    ),
    ("Router Cisco działa.\nSN: EXH3349M005 nie działa", ["EXH3349M005"]),  # ... not across a sentence's end
]


@pytest.mark.parametrize(("text", "serials"), SERIALS_IN_TEXT)
def test_serials_found(text: str, serials: list[str]) -> None:
    assert list(extract_identifiers(text).serial_numbers) == serials


NOT_SERIALS = [
    "Switch : 800979-00-05 part only, Part Number  : 325220-A.01",
    "MAC 00:04:96:9A:B4:F7, 00-04-96-9a-b4-f7, 0004.969a.b4f7",
    "S/N 0004969AB4F7",  # a MAC typed without separators
    "wersja 30.6.1.11 i 8.1r2a, IP 10.42.7.31, data 2026-11-24",
    "Device ID: 918273645012, id urz. 887766554433",
    "Case 02483917, GTAC case 02483917, RMA 1207734",
    "sn: INC0012345",
    "HZ-2026-000123",
    "REGON 12261435700012",  # a 14-digit REGON has the AP serial's shape
    "log_20260324101500.txt",  # a 14-digit time stamp
    "model 5420M-48W, X440-G2-24p-10G4, AP305C",
    "sn podyktował: 5420M-48W",
    "kod pocztowy 30-001 Kraków",
    "Rachunek: PL61 1090 1014 0000 0712 1981 2874",
    "rtr-wan-01,Bydgoszcz-HQ,R01,Cisco,ISR4331/K9,FOC2318X05A,IT-00388",  # Cisco's serials have the SLX layout
    "name,manufacturer,serial\nups-r01,APC,AS1923123456\n",  # a row about another maker's device
    "2247G-00563-01",  # a dash and digits continue a longer number
    # a label with no value, then something else's number
    "SN nieczytelny - naklejka inwentarzowa UMK2019IT0042",
    "S/N not readable - asset tag HLX2021NW07 is glued over the label",
    "S/N - see photo DSC04412 (attached)",
    # another maker's device: named after the label, or last before it on the line
    "SN FortiGate'a: FGT60FTK2109ABCD",
    "nr seryjny UPS: AS1923123456 (APC)",
    "The HPE DL360 server also lost its link; for the record its S/N: CZ2049ABCD.",
    "Processor board ID FDO2231A1BC",  # Cisco's show version
    "Hostname\tS/N\nAB12CD34EF\t\n",  # the first cell below a column's label is another column's
    # a device record of another maker: the serial's line names no equipment, the fields above name the maker
    "Model: Cisco C9200-24P\nS/N: FOC2318X05A",
    "Urządzenie: Cisco ISR4331\nLokalizacja: serwerownia\nSerial: FOC2318X05A\n",
    "Model: Dell PowerEdge R740\nS/N: AB12CD34EF",
    "power supplies are fine; licence key ABCDEFGH12345X (APC)",  # the PSU shape on another maker's line
    # named last before the value on its line, after the Extreme equipment; a model another maker's name owns;
    # Extreme named only to be denied
    "Extreme 5420F padł, trzeci to Cisco C9200 FOC2418Y1JK - nie nasz",
    "dwa switche X465 nie działają, router Cisco (SN FGL2231A0KX) działa normalnie",
    "Urządzenie | Numer seryjny\nHPE Aruba 2930F-24G | CN0AKP71LZ\n",
    "Urządzenie\tNr seryjny\nJuniper EX3400-48T (nie Extreme)\tNX3121320088\n",
    # key/value lines of another maker's output; a product line named without its maker
    " leaf-1    Cisco N9K-C93180YC-FX      SN: FDO2317Q0LX OK",
    'NAME: "Chassis", DESCR: "C9300-48P"\nPID: C9300-48P , VID: V02 , SN: FOC2041Z1GK',
    "SLX 9150 restartuje się, obok Nexus 9300 (SN FDO2318R0PK) działa",
]


@pytest.mark.parametrize("text", NOT_SERIALS)
def test_lookalikes_are_not_serials(text: str) -> None:
    assert extract_identifiers(text).serial_numbers == ()


CONTRACTS_IN_TEXT = [
    ("Umowa serwisowa nr 40027719 (PartnerWorks NBD AHR)", ["40027719"]),
    ("nr umowy: 40031862", ["40031862"]),
    ("Mamy z Państwem umowę serwisową nr 40052218.", ["40052218"]),
    ("jest objęte umową 40068812, jesteśmy", ["40068812"]),
    ("w umowie PW 40061174", ["40061174"]),
    ("w ramach kontraktu 40070215", ["40070215"]),
    ("covered by our contract no. 40072456", ["40072456"]),
    ("Service agreement: 40058830", ["40058830"]),
    ("our PartnerWorks contract 40081347", ["40081347"]),
    ("PW 40100238", ["40100238"]),
    ("PW-40012345", ["40012345"]),
    ("umowa AHB: HZ/AHB/2025/0187", ["HZ/AHB/2025/0187"]),
    ("hz/sos/2026/0033", ["HZ/SOS/2026/0033"]),
    ("Umowa:\n 40012345", ["40012345"]),
    ("kontrakt 40012347 i 40012348", ["40012347", "40012348"]),
    ("Numer zamówienia klienta (PO): 45013306\nKontrakt PW 40085562", ["40085562"]),
    ("umowa PW40624410", ["40624410"]),  # the PW label glued to its number
    ("w kontrakcie 40658877", ["40658877"]),  # locative of "kontrakt"
    ("Numer umowy serwisowej:\n40647766", ["40647766"]),  # words that only qualify the label, value below
    ("Umowa nr\n40647767", ["40647767"]),
    ("umowa 24x7 nr 40669988", ["40669988"]),  # the service level between label and number
    ("umową z dnia 15.01.2026 nr 40725544", ["40725544"]),  # the contract's date between them
    ("Contract ID: 40714433", ["40714433"]),
    ("klient ma um. 40147011", ["40147011"]),  # abbreviations of hasty call notes
    ("kontr. 40147120", ["40147120"]),
    ("Hostname,Serial,Contract\nsw1,,40111111\n", ["40111111"]),
    ("S/N: 2214G-00007, umowa 40027719.\nHala B, 40999999", ["40027719"]),  # a line with a value is no header
    ("Umowa po naszej stronie 40610022.", ["40610022"]),  # "po" is a preposition, PO an order
    ("contract no.40935035", ["40935035"]),  # "no." glued to the number
    ("umowa nr.40935036", ["40935036"]),
    ("Lokalizacja  Model  Numer seryjny  Nr umowy\nHala A  5320-24P-8XE  2247G-00561  40235581", ["40235581"]),
    # the number first, pointing at its label
    ("40147950 - to nasz nr umowy", ["40147950"]),
    ("Nr 40147951 – to numer naszej umowy serwisowej.", ["40147951"]),
    ("40147952 (umowa serwisowa)", ["40147952"]),
    ("40147953 is our contract number", ["40147953"]),
    ("tel. 601 234 567, 40147954 - nr umowy", ["40147954"]),
    ("40111111 - umowa 40027719", ["40027719"]),  # a label with its own number keeps it
    ("Numery umów: 40166320 (SP nr 3) i 40166333 (SP nr 5).", ["40166320", "40166333"]),  # umów, notes in a list
    ("UMOWA40012233, contract40012234", ["40012233", "40012234"]),  # labels glued to their numbers
    ("um.40311907, kontr.40311908", ["40311907", "40311908"]),
    ("kontrakt 40120470 + 40120483", ["40120470", "40120483"]),
    ("Umowy serwisowe:\n- 40144802 (serwerownia A)\n- PW 40144815 (serwerownia B)\n", ["40144802", "40144815"]),
    ("Our contract is\n40620298.", ["40620298"]),  # a line wrapped by the mail client
    ("PartnerWorks contract, number\n40620355.", ["40620355"]),
    ("Service contracts:\n• 40150212 (site A)\n• 40150225 (site B)", ["40150212", "40150225"]),
    ('{"contractNumber": "40801120"}', ["40801120"]),
    # a label heading a column names that column's cells only, not the next line's first cell
    ("Invoice  Contract\n40123456  40027719", ["40027719"]),
    ("Ticket\tUmowa\n40111111\t40027720", ["40027720"]),
    ("| Numer faktury | Numer umowy |\n|---|---|\n| 2025/11/0231 | 40027721 |", ["40027721"]),  # Markdown
]


@pytest.mark.parametrize(("text", "contracts"), CONTRACTS_IN_TEXT)
def test_contracts_found(text: str, contracts: list[str]) -> None:
    assert list(extract_identifiers(text).contract_numbers) == contracts


NOT_CONTRACTS = [
    "40012345",  # unlabelled in free text
    "PO 40012345",
    "umowa, PO 40012346",
    "contract renewal invoice 40012345",
    "faktura FV/2025/11/0231, zamówienie ZAM/2025/0443",
    "Part #: 40-1000363-04",
    "umowa serwisowa wygasa 2026-12-31, tel. 412345678",
    "NIP: 677-123-45-67, REGON 122614357, KRS 0000412873",
    "INC0071342",
    "HZ-2026-000123",
    "RMA 40012345 w ramach umowy",
    "Case 02517744",
    "umowa 24x7, faktura 40012345",
    "umowa z dnia 2026-01-15, zamówienie 40123456",
    "umowa, device id 40123456",
    "XPW40012345",
    "kontrola dostępu 40123456",
    "GTIN 05901234123457, EAN: 5901234123457",
    "IČO: 40012345, DIČ: CZ40012345, Org.nr. 40012346 MVA, umowa w toku",  # foreign company registers
    "v1.40012345 umowa",
    "Awaria.  Nr umowy zaraz podam\nHala  40999999",  # not a table header: its cell holds more than the label
    "Lokalizacja  Model  Nr umowy\nHala A  5320-24P-8XE\n",  # a row with fewer cells is not read
    # a number before a label, but not pointing at it, or named as another document's
    "40123456 umowa",
    "PO 40123456 - umowa",
    "faktura nr 40123457 - umowa serwisowa",
    "zamówienie 40123458 = umowa?",
    "40123459\numowa",
    # the label answered that there is no number, then another document's number
    "Numer umowy: nie pamiętam, nasz nr klienta 40211873",
    "Service contract: none yet; quote 40811922",
    "Numer umowy: nie posiadamy – karta gwarancyjna 41877320",
    "Umowa: brak danych; protokół odbioru 41220933",
    "Contract: TBC (finance), our cost centre 41005520",
    # contracts of another kind, and words that only start like a contract label
    "umowa najmu 41200455, umowa leasingu 41300771",
    "lease agreement no. 41200456",
    "Elektryk jest umówiony na jutro rano, zlecenie 41230077",
    "contractor (vendor no. 40018832)",
]


@pytest.mark.parametrize("text", NOT_CONTRACTS)
def test_lookalikes_are_not_contracts(text: str) -> None:
    assert extract_identifiers(text).contract_numbers == ()


FIELDS = [
    # (serial field, contract field, serials, contracts)
    ("2311G-00419", "40095527", ["2311G-00419"], ["40095527"]),
    ("SN: 2302G-00781, 2302G-00790", "hz/ahb/2026/0071", ["2302G-00781", "2302G-00790"], ["HZ/AHB/2026/0071"]),
    ("40097740", "", [], ["40097740"]),  # a contract typed into the serial field
    ("S/N:2207G-00966;", "umowa 40099041", ["2207G-00966"], ["40099041"]),
    ("nie wiem", "-", [], []),
    ("w załączniku", "", [], []),
    ("02502105113371 / 02502105113388", "PW 40100238", ["02502105113371", "02502105113388"], ["40100238"]),
    ("2011G-00289/2011G-00290", "", ["2011G-00289", "2011G-00290"], []),
    ("Serial#: 19JP204C0288", "umowa PW 40107785", ["19JP204C0288"], ["40107785"]),
    ("2248G-00412 + 2248G-00413 (stack)", "", ["2248G-00412", "2248G-00413"], []),
    ("INC0012345", "PO 41234567", [], []),
    ("918273645012", "12345678", [], []),
    ("2240G-01092", "PW40547743", ["2240G-01092"], ["40547743"]),  # the label glued to the number
    ("SN#2301G-00452, S/N.2214G-00417", "PW-40146290", ["2301G-00452", "2214G-00417"], ["40146290"]),
    # a field about another maker's device: its values need an Extreme shape; a contract number still counts
    ("nie ma - podała FGT60FTK22019874 (to FortiGate)", "40145317 (switch przy Cisco)", [], ["40145317"]),
    ("2459G-00614 (obok Cisco)", "", ["2459G-00614"], []),
]


@pytest.mark.parametrize(("serial_field", "contract_field", "serials", "contracts"), FIELDS)
def test_form_fields_classified_by_shape(
    serial_field: str, contract_field: str, serials: list[str], contracts: list[str]
) -> None:
    found = extract_identifiers("", serial_fields=[serial_field], contract_fields=[contract_field])
    assert found == Identifiers(tuple(serials), tuple(contracts))


def test_fields_come_first_and_duplicates_collapse() -> None:
    found = extract_identifiers(
        "S/N 2011G-00290, S/N 2011G-00289, umowa 40012345",
        serial_fields=["2011g-00289"],
        contract_fields=["40012345"],
    )
    assert found == Identifiers(("2011G-00289", "2011G-00290"), ("40012345",))


def test_a_field_value_the_text_gives_as_another_makers_is_dropped() -> None:
    text = "W polu numer seryjny wpisałem numer sąsiedniego HPE Aruba 2930F (CN0BKP62MX), żeby było wiadomo, gdzie."
    assert extract_identifiers(text, serial_fields=["CN0BKP62MX"]).serial_numbers == ()
    # ... but not one the text gives as Extreme's, nor one it does not mention
    text = "Obok Cisco stoi nasz przełącznik X465, S/N EXH3349M005."
    assert extract_identifiers(text, serial_fields=["EXH3349M005"]).serial_numbers == ("EXH3349M005",)
    assert extract_identifiers("Cisco obok.", serial_fields=["LBNNTMPL21094K"]).serial_numbers == ("LBNNTMPL21094K",)


def test_identifiers_is_frozen() -> None:
    found = extract_identifiers("S/N 2011G-00289")
    with pytest.raises(AttributeError):
        found.serial_numbers = ()  # type: ignore[misc]
