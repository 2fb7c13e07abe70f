"""AutoETS and AutoARIMA (Nixtla statsforecast) on the M4 Hourly training series, held out the
same way as costwatch-eval: the last 48 points of each series are the test, the rest the
history; season length 24; MASE (seasonal naive scale, m = 24) and sMAPE as in M4.

Usage: statsforecast_m4.py M4_HOURLY_TRAIN_CSV OUT_JSON [MAX_SERIES]
Prints nothing but a one-line summary; costwatch-eval reads OUT_JSON and prints the table.
"""
import csv
import json
import sys
import time

import numpy as np

HORIZON = 48
SEASON = 24


def load(path, limit):
    series = []
    with open(path, newline="") as f:
        reader = csv.reader(f)
        next(reader)
        for row in reader:
            values = [float(v) for v in row[1:] if v.strip() != ""]
            series.append((row[0], np.array(values)))
            if limit and len(series) >= limit:
                break
    return series


def mase(insample, actual, forecast, m=SEASON):
    scale = np.mean(np.abs(insample[m:] - insample[:-m]))
    return float(np.mean(np.abs(actual - forecast)) / scale)


def smape(actual, forecast):
    denom = np.abs(actual) + np.abs(forecast)
    terms = np.where(denom == 0, 0.0, 200.0 * np.abs(actual - forecast) / np.where(denom == 0, 1, denom))
    return float(np.mean(terms))


def main():
    path, out = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] else 0
    from statsforecast.models import AutoARIMA, AutoETS

    data = load(path, limit)
    results = {}
    for name, make in (("statsforecast AutoETS", lambda: AutoETS(season_length=SEASON)),
                       ("statsforecast AutoARIMA", lambda: AutoARIMA(season_length=SEASON))):
        # Warm the numba JIT on one series so compile time is not billed as fitting time.
        make().forecast(y=data[0][1][:-HORIZON], h=HORIZON)
        mases, smapes, cover95 = [], [], []
        cpu = time.process_time()
        for _, y in data:
            train, test = y[:-HORIZON], y[-HORIZON:]
            fc = make().forecast(y=train, h=HORIZON, level=[95])
            mean = fc["mean"]
            mases.append(mase(train, test, mean))
            smapes.append(smape(test, mean))
            lo, hi = fc.get("lo-95"), fc.get("hi-95")
            if lo is not None and hi is not None:
                cover95.append(float(np.mean((test >= lo) & (test <= hi))))
        cpu = time.process_time() - cpu
        results[name] = {
            "series": len(data),
            "mase": float(np.mean(mases)),
            "smape": float(np.mean(smapes)),
            "coverage95": float(np.mean(cover95)) if cover95 else None,
            "cpu_seconds": cpu,
        }
        print(f"{name}: MASE {results[name]['mase']:.3f} sMAPE {results[name]['smape']:.2f} cpu {cpu:.1f}s", file=sys.stderr)
    with open(out, "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
