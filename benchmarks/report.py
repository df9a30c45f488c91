"""The HTML report's size and speed: `python benchmarks/report.py [MODEL ...]`.

Per model: `cnncalc report` as a whole process, the page's size, and in headless Chromium (Debian's
chromium and chromium-driver, driven by selenium) the time from navigation to the first drawing
(parsing, layout and all) and the time to redraw every layer (the depth menu's "all layers").
`--screenshot FILE` also saves the first model's page with the layer `--select` names selected:
README's picture is
`--runs 1 --screenshot docs/report.png --select inception4a.branch2.1.conv googlenet`.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REDRAW_ALL = """const menu = document.getElementById('depth'), start = performance.now();
menu.value = 'all'; menu.dispatchEvent(new Event('change'));
return [performance.now() - start, document.querySelectorAll('#graph .node').length];"""


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,900"):
        options.add_argument(argument)
    options.binary_location = shutil.which("chromium")
    return webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))


def write_page(model: str, path: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cnncalc", "report", model, "-o", str(path)], check=True,
                   capture_output=True, env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"})
    return time.perf_counter() - start


def screenshot(driver, path: Path, layer: str) -> None:
    node = driver.find_element("css selector", f'.node[data-name="{layer}"]')
    node.click()
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', inline: 'center'})", node)
    driver.save_screenshot(str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--screenshot", type=Path)
    parser.add_argument("--select", default="input")
    parser.add_argument("models", nargs="*",
                        default=["lenet5", "resnet50", "googlenet", "densenet121", "unet", "resnet152"])
    options = parser.parse_args()
    driver = browser()
    print("| model | layers | `cnncalc report` | page size | first drawing | redraw all layers |\n"
          "|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        for model in options.models:
            page = Path(folder) / f"{model}.html"
            writes, firsts, redraws = [], [], []
            for _ in range(options.runs):
                writes.append(write_page(model, page))
                driver.get(page.as_uri())
                firsts.append(float(driver.execute_script("return document.documentElement.dataset.renderMs")))
                redraw, nodes = driver.execute_script(REDRAW_ALL)
                redraws.append(redraw)
            if options.screenshot and model == options.models[0]:
                screenshot(driver, options.screenshot, options.select)
            print(f"| {model} | {nodes} | {statistics.median(writes):.2f} s | {page.stat().st_size / 1e6:.2f} MB | "
                  f"{statistics.median(firsts):.0f} ms | {statistics.median(redraws):.0f} ms |", flush=True)
    driver.quit()


if __name__ == "__main__":
    main()
