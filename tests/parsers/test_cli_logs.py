"""Serial positions in Extreme CLI output, read by structure (the caller checks each value's shape)."""

from __future__ import annotations

import pytest

from parsers.cli_logs import serial_candidates_in_cli_output
from parsers.identifiers import extract_identifiers

EXOS_STACK = """\
* X440G2.1 # show version
Slot-1          : 800616-00-22 2203G-00114 Rev 22 BootROM: 2.2.1.6    IMG: 31.7.1.4
Slot-2          : 800616-00-22 2203G-00127 Rev 22 BootROM: 2.2.1.6    IMG: 31.7.1.4

Image   : ExtremeXOS version 31.7.1.4 31.7.1.4 by release-manager
BootROM : 2.2.1.6
"""
EXOS_WITH_MODULE_AND_PSUS = """\
Switch          : 800979-00-05 2011G-00289 Rev 05 BootROM: 2.0.0.5    IMG: 30.6.1.11
5520-VIM-4X-1   : 800997-00-03 2012G-01104 Rev 03
PSU-1           : Internal PSU-1 2231A-10458
PSU-2           : Internal PSU-2 800749-00-05 2231A-10502 Rev 3.0
"""
EXOS_SHOW_POWER = """\
PowerSupply 1 information:
 State             : Powered On
 PartInfo          : PSU-1  2231A-10458 800881-00-03
"""
VOSS_SYS_INFO = """\
Chassis Info:

\tSerial#            : 18JP305E0412
\tPart Number        :
\tBaseMacAddr        : b4:47:5e:2a:91:00

Card Info :

\tSlot#      CardType          Serial#            Part#             Oper   Admin  Power
\t                                                                  Status Status State
\t    1  4450GSX-PWR+     18JP305E0413               --               up      up     on

Power Supply Info :

\tPs#1 Serial Number: LBNNTMPL21094K
\tPs#1 Part Number  : 325220-A.01
\tPs#2 Serial Number: --
"""
SLX_INVENTORY = """\
NAME: Chassis           DESCR:System Chassis
SID:BR-SLX9150          SwitchType:4000
PN:84-1003158-02        SN:EXH3821K017
"""
IRONWARE = "Chassis: MLXe 4-slot (Serial #: BGD2917K02C,  Part #: 40-1000363-04)\n"
XIQ_JSON = '{"id": 187654321012, "serialNumber": "02501608254257", "mac": "4C231A0F3E40", "serial": "AB12CD34EF56GH"}'

CASES = [
    (EXOS_STACK, ["2203G-00114", "2203G-00127"]),
    (EXOS_WITH_MODULE_AND_PSUS, ["2011G-00289", "2012G-01104", "2231A-10458", "2231A-10502"]),
    (EXOS_SHOW_POWER, ["2231A-10458"]),
    (VOSS_SYS_INFO, ["18JP305E0412", "18JP305E0413", "LBNNTMPL21094K"]),
    (SLX_INVENTORY, ["EXH3821K017"]),
    (IRONWARE, ["BGD2917K02C"]),
    (XIQ_JSON, ["02501608254257", "AB12CD34EF56GH"]),
    ('[{"SerialNumber": "LBNNTMPL22105A"}, {"serial_number": "LBNNTMPL22107C"}]', ["LBNNTMPL22105A", "LBNNTMPL22107C"]),
    ('ENTITY-MIB::entPhysicalSerialNum.5 = STRING: "LBNNTMPL22166B"\n', ["LBNNTMPL22166B"]),  # an SNMP walk
]


@pytest.mark.parametrize(("output", "serials"), CASES)
def test_serials_read_from_cli_output(output: str, serials: list[str]) -> None:
    assert list(extract_identifiers(output).serial_numbers) == serials


@pytest.mark.parametrize(
    "output",
    [
        "Switch          : Summit X460-48t",
        "System MAC:       00:04:96:E2:7B:40\nPrimary ver:      31.7.1.4",
        "SLX-OS Operating System Version: 20.4.3\nFirmware name:      20.4.3",
        "\tPs#1 Part Number  : 325220-A.01",
        '{"deviceId": 187654321012, "softwareVersion": "10.6r3"}',
    ],
)
def test_no_serials_in_cli_output_without_them(output: str) -> None:
    assert extract_identifiers(output).serial_numbers == ()


def test_part_number_is_never_a_candidate() -> None:
    values = [value for _, value in serial_candidates_in_cli_output(EXOS_WITH_MODULE_AND_PSUS)]
    assert not {"800979-00-05", "800997-00-03", "800749-00-05"} & set(values)


def test_candidates_keep_text_order() -> None:
    offsets = [offset for offset, _ in serial_candidates_in_cli_output(EXOS_STACK + VOSS_SYS_INFO)]
    assert offsets == sorted(offsets)
