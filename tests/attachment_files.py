"""Small documents of every attachment format, written here so that tests own their content exactly."""

from __future__ import annotations

import io
import struct
import zipfile

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def make_pdf(pages: list[str], *, image: bool = False) -> bytes:
    """A born-digital PDF of ASCII text, a page per item, lines split at newlines (Helvetica); with
    ``image`` every page also draws a small grey image (a scan, when the text is empty)."""
    objects: list[bytes] = []
    page_ids = [4 + 2 * i for i in range(len(pages))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    image_id = 4 + 2 * len(pages)
    for index, text in enumerate(pages):
        lines = [
            line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in text.split("\n")
        ]
        shown = " T* ".join(f"({line}) Tj" for line in lines)
        stream = (f"BT /F1 10 Tf 12 TL 72 740 Td {shown} ET" if text else "").encode()
        xobject = f" /XObject << /Im1 {image_id} 0 R >>" if image else ""
        if image:
            stream += b" q 200 0 0 200 72 400 cm /Im1 Do Q"
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >>"
            f"{xobject} >> /Contents {page_ids[index] + 1} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    if image:
        pixels = bytes([128]) * 16
        objects.append(
            b"<< /Type /XObject /Subtype /Image /Width 4 /Height 4 /ColorSpace /DeviceGray "
            b"/BitsPerComponent 8 /Length %d >>\nstream\n" % len(pixels) + pixels + b"\nendstream"
        )
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _zip(members: dict[str, bytes | str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def make_docx(paragraphs: list[str]) -> bytes:
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    return _zip(
        {
            "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
            "word/document.xml": f'<?xml version="1.0"?><w:document xmlns:w="{W}"><w:body>{body}</w:body>'
            "</w:document>",
        }
    )


def make_xlsx(rows: list[list[str]]) -> bytes:
    cells = "".join(
        f'<row r="{r + 1}">'
        + "".join(
            f'<c r="{chr(65 + c)}{r + 1}" t="inlineStr"><is><t>{value}</t></is></c>'
            for c, value in enumerate(row)
        )
        + "</row>"
        for r, row in enumerate(rows)
    )
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    return _zip(
        {
            "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/></Types>',
            "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships"><Relationship Id="rId1" Type="{R}/officeDocument" '
            'Target="xl/workbook.xml"/>'
            "</Relationships>",
            "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{S}" xmlns:r="{R}"><sheets>'
            '<sheet name="表1" sheetId="1" r:id="rId1"/></sheets></workbook>',
            "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.'
            f'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{R}/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>',
            "xl/worksheets/sheet1.xml": f'<?xml version="1.0"?><worksheet xmlns="{S}"><sheetData>{cells}'
            "</sheetData></worksheet>",
        }
    )


def make_ofd(pages: list[str]) -> bytes:
    ns = "http://www.ofdspec.org/2016"
    members: dict[str, bytes | str] = {
        "OFD.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="{ns}" DocType="OFD" '
        'Version="1.0">'
        "<ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
    }
    page_list = "".join(
        f'<ofd:Page ID="{i + 10}" BaseLoc="Pages/Page_{i}/Content.xml"/>' for i in range(len(pages))
    )
    members["Doc_0/Document.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="{ns}"><ofd:Pages>{page_list}'
        "</ofd:Pages></ofd:Document>"
    )
    for i, text in enumerate(pages):
        lines = "".join(
            f'<ofd:TextObject ID="{100 + n}" Boundary="20 {40 + 10 * n} 170 8" Font="1" Size="5">'
            f'<ofd:TextCode X="0" Y="5">{line}</ofd:TextCode></ofd:TextObject>'
            for n, line in enumerate(text.split("\n"))
        )
        members[f"Doc_0/Pages/Page_{i}/Content.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="{ns}"><ofd:Content>'
            f'<ofd:Layer ID="2">{lines}</ofd:Layer></ofd:Content></ofd:Page>'
        )
    return _zip(members)


SECTOR = 512
ENDOFCHAIN, FREESECT, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def _dir_entry(name: str, kind: int, *, left: int, right: int, child: int, start: int, size: int) -> bytes:
    encoded = (name + "\0").encode("utf-16-le")
    return (
        encoded.ljust(64, b"\0")
        + struct.pack("<HBB", len(encoded), kind, 1)
        + struct.pack("<III", left, right, child)
        + b"\0" * 16
        + b"\0" * 4
        + b"\0" * 16
        + struct.pack("<IQ", start, size)
    )


def make_doc(paragraphs: list[str], *, encrypted: bool = False) -> bytes:
    """A Word 97 binary document (what .doc and WPS 文字 .wps files are): a compound file with a
    WordDocument stream (FIB + UTF-16 text) and a 0Table stream holding the piece table."""
    text = "\r".join(paragraphs) + "\r"
    text_fc = 1024
    word = bytearray(max(4096, text_fc + 2 * len(text)))
    struct.pack_into("<HH", word, 0, 0xA5EC, 0x00C1)
    struct.pack_into("<H", word, 0x0A, 0x0100 if encrypted else 0)
    struct.pack_into("<H", word, 0x20, 14)
    struct.pack_into("<H", word, 0x3E, 22)
    struct.pack_into("<i", word, 0x4C, len(text))
    struct.pack_into("<H", word, 0x98, 0x5D)
    plc = struct.pack("<ii", 0, len(text)) + struct.pack("<HIH", 0, text_fc, 0)
    clx = b"\x02" + struct.pack("<I", len(plc)) + plc
    struct.pack_into("<II", word, 0x01A2, 0, len(clx))
    word[text_fc : text_fc + 2 * len(text)] = text.encode("utf-16-le")
    table = clx.ljust(4096, b"\0")
    word_sectors = len(word) // SECTOR + (1 if len(word) % SECTOR else 0)
    word = bytes(word).ljust(word_sectors * SECTOR, b"\0")
    table_sectors = len(table) // SECTOR
    fat = [FATSECT, ENDOFCHAIN]
    first_word = len(fat)
    fat += [first_word + i + 1 for i in range(word_sectors - 1)] + [ENDOFCHAIN]
    first_table = len(fat)
    fat += [first_table + i + 1 for i in range(table_sectors - 1)] + [ENDOFCHAIN]
    assert len(fat) <= SECTOR // 4
    fat += [FREESECT] * (SECTOR // 4 - len(fat))
    header = bytearray(SECTOR)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 0x28, 0, 1, 1, 0, 4096, ENDOFCHAIN, 0, ENDOFCHAIN, 0)
    struct.pack_into("<I", header, 0x4C, 0)
    for i in range(1, 109):
        struct.pack_into("<I", header, 0x4C + 4 * i, FREESECT)
    directory = (
        _dir_entry("Root Entry", 5, left=NOSTREAM, right=NOSTREAM, child=1, start=ENDOFCHAIN, size=0)
        + _dir_entry(
            "WordDocument", 2, left=2, right=NOSTREAM, child=NOSTREAM, start=first_word, size=len(word)
        )
        + _dir_entry(
            "0Table", 2, left=NOSTREAM, right=NOSTREAM, child=NOSTREAM, start=first_table, size=len(table)
        )
        + b"\0" * 128
    )
    return bytes(header) + struct.pack(f"<{SECTOR // 4}I", *fat) + directory + word + table


def make_zip_bomb(declared: int) -> bytes:
    """A zip whose one member inflates to ``declared`` zero bytes (deflate: ~1000:1)."""
    out = io.BytesIO()
    bomb = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED)
    with bomb, bomb.open("word/document.xml", "w") as member:
        chunk = b"\0" * (1 << 20)
        for _ in range(declared // len(chunk)):
            member.write(chunk)
    return out.getvalue()


def make_flate_bomb_pdf(inflated: int) -> bytes:
    """A one-page PDF whose content stream is ``inflated`` bytes of zeros deflated (~1000:1)."""
    import zlib

    compressor = zlib.compressobj(1)
    chunk = b"\0" * (1 << 20)
    stream = b"".join(compressor.compress(chunk) for _ in range(inflated // len(chunk))) + compressor.flush()
    pdf = make_pdf(["x"])
    # Replace the page's content stream with the bomb; PDF readers rebuild a broken xref table.
    start = pdf.index(b"stream\n") + len(b"stream\n")
    end = pdf.index(b"\nendstream")
    head = pdf[:start].replace(b"<< /Length", b"<< /Filter /FlateDecode /Length %d /X" % len(stream), 1)
    return head + stream + pdf[end:]


def declare_size(archive: bytes, member: str, size: int) -> bytes:
    """A zip whose central directory says ``member`` inflates to ``size`` bytes (a lying OFD/XLSX)."""
    name = member.encode()
    at = archive.index(b"PK\x01\x02" + archive[archive.index(b"PK\x01\x02") + 4 :][:0])
    while True:
        entry_name_length = struct.unpack_from("<H", archive, at + 28)[0]
        if archive[at + 46 : at + 46 + entry_name_length] == name:
            break
        at = archive.index(b"PK\x01\x02", at + 4)
    patched = bytearray(archive)
    struct.pack_into("<I", patched, at + 24, size)
    return bytes(patched)


def make_scanned_pdf(text: str, *, height: float = 100.0) -> bytes:
    """A one-page PDF that is only an image of ``text`` (what a scanner makes: no text layer): the top
    ``height`` points of ``make_pdf([text])`` rendered by PDFium at 150 dpi, as a Flate grey image."""
    import zlib

    import pypdfium2 as pdfium

    page = pdfium.PdfDocument(make_pdf([text]))[0]
    bitmap = page.render(scale=150 / 72, grayscale=True, crop=(0, page.get_height() - height, 0, 0))
    width, rows, stride = bitmap.width, bitmap.height, bitmap.stride
    buffer = bytes(bitmap.buffer)
    pixels = zlib.compress(b"".join(buffer[y * stride : y * stride + width] for y in range(rows)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 %d] /Resources << /XObject << /Im1 5 0 R >> >> "
        b"/Contents 4 0 R >>" % height,
    ]
    drawing = b"q 612 0 0 %d 0 0 cm /Im1 Do Q" % height
    objects.append(b"<< /Length %d >>\nstream\n" % len(drawing) + drawing + b"\nendstream")
    objects.append(
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n"
        % (width, rows, len(pixels))
        + pixels
        + b"\nendstream"
    )
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()
