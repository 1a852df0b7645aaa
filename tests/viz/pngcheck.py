#!/usr/bin/env python3
"""Small PNG reader for the viz end-to-end tests (standard library only: zlib).

usage: pngcheck.py notblank FILE
           exits 1 unless the picture has many colours and content beyond the background
       pngcheck.py tsd FILE META.json SIGNALS.csv
           checks the time-space diagram's bars against signals.csv: at the middle of every
           green (and red) interval of a corridor group inside the window, the bar's pixel is
           green (red)
"""
import csv
import json
import struct
import sys
import zlib

GREEN = (0x2F, 0xD6, 0x7B)
RED = (0xFF, 0x3B, 0x3B)
BACKGROUND = (0x14, 0x16, 0x1B)


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG file")
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            if depth != 8 or ctype not in (2, 6):
                sys.exit(f"{path}: only 8-bit RGB(A) is read here")
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, lambda x, y: tuple(rows[y][x * bpp:x * bpp + 3])


def notblank(path):
    w, h, px = read_png(path)
    colours, content = set(), 0
    for y in range(0, h, 3):
        for x in range(0, w, 3):
            c = px(x, y)
            colours.add(c)
            content += c != BACKGROUND
    share = content / ((w // 3 + 1) * (h // 3 + 1))
    print(f"{path}: {w}x{h}, {len(colours)} colours, {100 * share:.1f}% not background")
    if len(colours) < 20 or share < 0.02:
        sys.exit(f"{path}: looks blank")


def tsd(path, meta_path, signals_path):
    w, h, px = read_png(path)
    meta = json.load(open(meta_path))
    plot, t0, t1 = meta["plot"], meta["t0_s"], meta["t1_s"]
    changes = {}
    for row in csv.DictReader(open(signals_path)):
        changes.setdefault(row["signal_group"], []).append((float(row["time_s"]), row["state"]))
    checked = failed = 0
    for stop in meta["stops"]:
        y = round(stop["y"])
        for g in stop["groups"]:
            seq = changes.get(g, [])
            for (a, state), (b, _) in zip(seq, seq[1:]):
                if state not in ("green", "red") or b - a < 4 or a < t0 or b > t1:
                    continue
                mid = (a + b) / 2
                x = int(plot["x"] + (mid - t0) / (t1 - t0) * plot["w"])
                want = GREEN if state == "green" else RED
                # The escort's bold line may cross the bar: any of its rows will do.
                ok = any(px(x, yy) == want for yy in range(y - 2, y + 3))
                checked += 1
                if not ok:
                    failed += 1
                    print(f"{stop['node']} {g}: {state} {a:.1f}-{b:.1f} s, pixel {x},{y} is "
                          f"{px(x, y)}")
    print(f"{path}: {checked} signal intervals checked against {signals_path}, {failed} wrong")
    if checked < 10 or failed > 0:
        sys.exit(1)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "notblank":
        notblank(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "tsd":
        tsd(*sys.argv[2:])
    else:
        sys.exit(__doc__)
