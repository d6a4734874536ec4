"""The C-STORE request we send is byte for byte the one pynetdicom's DIMSE provider would send
(issue 17): the command set of :func:`mediatool.net.dimse.command` and the data set's P-DATA
fragments of :func:`mediatool.net.dimse.fragments`, against pynetdicom's own ``C_STORE_RQ``
message encoding of the same primitive, each in the P-DATA-TF PDU pynetdicom's DUL would send."""

from __future__ import annotations

import io

import pytest
from pynetdicom.dimse_messages import C_STORE_RQ
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.pdu import P_DATA_TF
from pynetdicom.pdu_primitives import P_DATA

from mediatool.net.dimse import batches, command, fragments, pdata_tf

CT = "1.2.840.10008.5.1.4.1.1.2"


def _pynetdicom(
    sop_class: str, sop_instance: str, msg_id: int, data: bytes, max_pdu: int
) -> list[bytes]:
    req = C_STORE()
    req.MessageID = msg_id
    req.Priority = 2
    req.AffectedSOPClassUID = sop_class
    req.AffectedSOPInstanceUID = sop_instance
    req.DataSet = io.BytesIO(data)
    message = C_STORE_RQ()
    message.primitive_to_message(req)
    return [p.presentation_data_value_list[0][1] for p in message.encode_msg(1, max_pdu)]


@pytest.mark.parametrize(
    ("sop_instance", "msg_id"),
    [("1.2.3.4", 1), ("1.2.826.0.1.3680043.10.1137.7.1.2.345", 65535), ("1.2.3.45", 300)],
)
def test_command_set_is_pynetdicoms(sop_instance: str, msg_id: int) -> None:
    [cmd, _] = _pynetdicom(CT, sop_instance, msg_id, b"\x08\x00", 16382)
    assert cmd[:1] == b"\x03"  # command, last fragment
    assert command(CT, sop_instance, msg_id) == cmd[1:]
    odd_class = "1.2.840.10008.5.1.4.1.1.481.1"  # an odd-length UID, NUL padded
    [cmd, _] = _pynetdicom(odd_class, sop_instance, msg_id, b"\x08\x00", 0)
    assert command(odd_class, sop_instance, msg_id) == cmd[1:]


@pytest.mark.parametrize("max_pdu", [0, 16, 1000, 16382])
@pytest.mark.parametrize("size", [2, 10, 994, 995, 1988, 5000])
def test_fragments_are_pynetdicoms(max_pdu: int, size: int) -> None:
    data = bytes(range(256)) * (size // 256 + 1)
    data = data[:size]
    theirs = _pynetdicom(CT, "1.2.3", 7, data, max_pdu)
    cmd = fragments(command(CT, "1.2.3", 7), max_pdu, is_command=True)
    ours = fragments(memoryview(b"PREFIX" + data)[6:], max_pdu)  # as sent: a view past the meta
    assert cmd + ours == theirs
    assert b"".join(f[1:] for f in ours) == data
    if max_pdu:
        assert all(len(f) <= max_pdu - 5 for f in cmd + ours)


@pytest.mark.parametrize("context_id", [1, 127, 255])
@pytest.mark.parametrize("size", [2, 995, 16382])
def test_pdus_are_pynetdicoms(context_id: int, size: int) -> None:
    data = (bytes(range(256)) * (size // 256 + 1))[:size]
    for pdv in fragments(command(CT, "1.2.3", 7), 16384, is_command=True) + fragments(data, 1000):
        primitive = P_DATA()
        primitive.presentation_data_value_list.append((context_id, pdv))
        assert pdata_tf(context_id, pdv) == P_DATA_TF(primitive).encode()


def test_batches_keep_every_byte_in_order() -> None:
    pdus = [bytes([n]) * (n * 100 + 1) for n in range(30)]
    runs = batches(pdus, limit=5000)
    assert b"".join(runs) == b"".join(pdus)
    assert len(runs) > 1
    assert all(len(r) < 5000 + len(pdus[-1]) for r in runs)
    assert batches(pdus) == [b"".join(pdus)]
    assert batches([]) == []
