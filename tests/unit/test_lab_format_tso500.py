"""Illumina TSO500-family VCFs as the Pisces/Pepe caller chain writes them (real files, FNL-MoCha/moma): allele
fraction in FORMAT VF (no AF), FORMAT columns that vary between app versions, tissue and plasma."""

from pathlib import Path

import pysam
import pytest

from services.ingest.adapters.vcf.loader import open_vcf

TSO500 = Path(__file__).resolve().parents[3] / "shared" / "data" / "lab-outputs" / "tso500-fnl-mocha-moma"
FILES = ["Horizon_2-000_rep1.vcf", "Lovo_nuc.vcf", "W313718105511_cfNA.vcf"]  # 2.2 bundle (LQUS, BFQ), 2.1, cfNA


@pytest.mark.parametrize("name", FILES)
def test_every_variant_carries_the_labs_own_vf_and_depth(name, tmp_path):
    bgzf = tmp_path / f"{name}.gz"
    pysam.tabix_compress(str(TSO500 / name), str(bgzf), force=True)
    expected = {}
    for record in pysam.VariantFile(str(TSO500 / name)):
        sample = record.samples[0]
        for k, alt in enumerate(record.alts or ()):
            if not alt.startswith("<"):
                expected[(record.chrom, record.pos, record.ref, alt)] = (sample["VF"][k], sample["DP"])
    with open_vcf(str(bgzf), "GRCh37", 64 * 1024) as reader:
        got = {(v.chrom, v.pos, v.ref, v.alt): (v.vaf, v.depth) for v in reader.variants()}
    assert len(got) == len(expected) > 50
    for key, (vf, depth) in expected.items():
        vaf, read_depth = got[key]
        assert read_depth == depth and vaf == pytest.approx(vf, abs=1e-6), key
