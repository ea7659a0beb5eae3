"""`python -m optima.demo_supplier --port 8701 --seed 1 --latency-ms 50:400`: one demo
supplier as its own process, until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .server import start_in_thread


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m optima.demo_supplier",
        description=(
            "Демо-поставщик запчастей: ABCP, Armtek, Автоевро и Parts-Soft на одном порту "
            "127.0.0.1."
        ),
    )
    parser.add_argument("--port", type=int, default=0, help="порт (0 — любой свободный)")
    parser.add_argument("--seed", type=int, default=1, help="зерно каталога")
    parser.add_argument("--name", default="Демо-поставщик")
    parser.add_argument("--latency-ms", default="0:0", help="задержка ответа MIN:MAX, мс")
    parser.add_argument("--hang", action="store_true", help="принимать запросы и не отвечать")
    parser.add_argument("--error-rate", type=float, default=0.0, help="доля ответов HTTP 500")
    parser.add_argument("--garbage-rate", type=float, default=0.0, help="доля испорченных ответов")
    parser.add_argument("--login", default="demo")
    parser.add_argument("--password", default="demo")
    parser.add_argument(
        "--order-stage-s", type=float, default=5.0, help="секунд на шаг статуса заказа"
    )
    parser.add_argument(
        "--order-reject-rate", type=float, default=0.0, help="доля заказов с отказом по строке"
    )
    parser.add_argument(
        "--order-hang-first", action="store_true", help="принять первый заказ и не ответить"
    )
    parser.add_argument("--verbose", action="store_true", help="печатать запросы")
    parser.add_argument(
        "--abcp-error-code", type=int, default=0, help="ABCP: отвечать этой ошибкой (103, 104)"
    )
    parser.add_argument(
        "--armtek-daily-quota", type=int, default=0, help="Armtek: запросов поиска в сутки"
    )
    args = parser.parse_args(argv)
    try:
        handle = start_in_thread(
            port=args.port,
            seed=args.seed,
            name=args.name,
            latency_ms=args.latency_ms,
            hang=args.hang,
            error_rate=args.error_rate,
            garbage_rate=args.garbage_rate,
            login=args.login,
            password=args.password,
            verbose=args.verbose,
            order_stage_s=args.order_stage_s,
            order_reject_rate=args.order_reject_rate,
            order_hang_first=args.order_hang_first,
            abcp_error_code=args.abcp_error_code,
            armtek_daily_quota=args.armtek_daily_quota,
        )
    except (ValueError, OSError) as exc:
        parser.error(str(exc))
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    catalogue = handle.catalogue
    print(
        f"{args.name} (seed {args.seed}): {handle.url} — номеров {len(catalogue.oem_numbers)}, "
        f"деталей {len(catalogue.parts)}, предложений {len(catalogue.all_offers)}",
        flush=True,
    )
    done.wait()
    handle.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
