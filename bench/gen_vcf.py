"""Synthetic tumour/normal VCFs for the benchmarks: Ensembl VEP CSQ annotation, FORMAT GT:AD:AF:DP.

Deterministic for a given seed and size, GRCh38 contigs with their real lengths (so ingest's build
check accepts them), sorted, bgzipped with pysam.tabix_compress. About 85 % SNVs, 10 % indels,
5 % MNVs, 3 % multi-allelic sites, one to four transcripts per site, as a VEP run on a WES or
large-panel somatic call set looks. A panel may carry BRAF p.V600E (chr7:140753336 A>T) so that
annotate raises an alert for a colorectal case.

    python bench/gen_vcf.py OUT.vcf.gz --records 200000 --seed 7 [--braf-v600e]
"""

import argparse
import random
import tempfile
from pathlib import Path

import pysam

GRCH38 = {
    "1": 248956422, "2": 242193529, "3": 198295559, "4": 190214555, "5": 181538259, "6": 170805979,
    "7": 159345973, "8": 145138636, "9": 138394717, "10": 133797422, "11": 135086622, "12": 133275309,
    "13": 114364328, "14": 107043718, "15": 101991189, "16": 90338345, "17": 83257441, "18": 80373285,
    "19": 58617616, "20": 64444167, "21": 46709983, "22": 50818468, "X": 156040895, "Y": 57227415,
}
CSQ_FIELDS = (
    "Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|INTRON|HGVSc|HGVSp|cDNA_position|"
    "CDS_position|Protein_position|Amino_acids|Codons|Existing_variation|DISTANCE|STRAND|FLAGS|SYMBOL_SOURCE|"
    "HGNC_ID|CANONICAL|MANE_SELECT|TSL|APPRIS|CCDS|ENSP|SWISSPROT|SIFT|PolyPhen|AF|gnomADe_AF|CLIN_SIG|SOMATIC|PHENO"
)
CONSEQUENCES = (
    ("missense_variant", "MODERATE"), ("synonymous_variant", "LOW"), ("intron_variant", "MODIFIER"),
    ("stop_gained", "HIGH"), ("splice_region_variant&intron_variant", "LOW"), ("3_prime_UTR_variant", "MODIFIER"),
    ("upstream_gene_variant", "MODIFIER"), ("frameshift_variant", "HIGH"), ("non_coding_transcript_exon_variant", "MODIFIER"),
)
AMINO = "ACDEFGHIKLMNPQRSTVWY"
THREE = dict(zip(AMINO, ("Ala", "Cys", "Asp", "Glu", "Phe", "Gly", "His", "Ile", "Lys", "Leu", "Met", "Asn", "Pro",
                         "Gln", "Arg", "Ser", "Thr", "Val", "Trp", "Tyr"), strict=True))
BASES = "ACGT"
BRAF_V600E = ("7", 140753336, "A", "T")


def header(samples: tuple[str, str]) -> str:
    lines = [
        "##fileformat=VCFv4.2",
        "##source=oncorelay-bench-gen_vcf",
        "##reference=GRCh38",
        *(f"##contig=<ID=chr{name},length={length},assembly=GRCh38>" for name, length in GRCH38.items()),
        '##FILTER=<ID=PASS,Description="All filters passed">',
        '##FILTER=<ID=weak_evidence,Description="Mutation does not meet likelihood threshold">',
        '##INFO=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth">',
        '##INFO=<ID=SOMATIC,Number=0,Type=Flag,Description="Somatic event">',
        f'##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. Format: {CSQ_FIELDS}">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths for the ref and alt alleles">',
        '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions of alternate alleles">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
        f"##tumor_sample={samples[0]}",
        f"##normal_sample={samples[1]}",
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples),
    ]
    return "\n".join(lines) + "\n"


def _alleles(rng: random.Random) -> tuple[str, list[str]]:
    kind = rng.random()
    ref = rng.choice(BASES)
    if kind < 0.85:
        alt = [rng.choice([b for b in BASES if b != ref])]
    elif kind < 0.95:
        if rng.random() < 0.5:
            alt = [ref + "".join(rng.choice(BASES) for _ in range(rng.randint(1, 6)))]
        else:
            ref, alt = ref + "".join(rng.choice(BASES) for _ in range(rng.randint(1, 6))), [ref]
    else:
        ref = "".join(rng.choice(BASES) for _ in range(2))
        alt = ["".join(rng.choice([b for b in BASES if b != r]) for r in ref)]
    if rng.random() < 0.03 and len(ref) == 1:
        alt.append(rng.choice([b for b in BASES if b != ref and b not in alt]))
    return ref, alt


def _csq(rng: random.Random, alt: str, gene_no: int, transcripts: int) -> str:
    entries = []
    for t in range(transcripts):
        consequence, impact = rng.choice(CONSEQUENCES)
        protein = rng.randint(1, 1500)
        a, b = rng.choice(AMINO), rng.choice(AMINO)
        coding = consequence.startswith(("missense", "synonymous", "stop", "frameshift"))
        transcript = f"ENST{gene_no * 10 + t:011d}.{rng.randint(1, 9)}"
        entries.append("|".join((
            alt, consequence, impact, f"GENE{gene_no}", f"ENSG{gene_no:011d}", "Transcript", transcript,
            "protein_coding", f"{rng.randint(1, 20)}/20" if coding else "", "" if coding else f"{rng.randint(1, 19)}/19",
            f"{transcript}:c.{protein * 3}{rng.choice(BASES)}>{alt[:1]}",
            f"ENSP{gene_no * 10 + t:011d}.1:p.{THREE[a]}{protein}{THREE[b]}" if coding else "",
            str(protein * 3 + 120), str(protein * 3), str(protein), f"{a}/{b}" if coding else "", "",
            f"rs{rng.randint(1000, 99999999)}" if rng.random() < 0.3 else "", "", rng.choice(("1", "-1")), "",
            "HGNC", f"HGNC:{gene_no}", "YES" if t == 0 else "", f"NM_{gene_no:06d}.4" if t == 0 else "",
            "1", "P1" if t == 0 else "", f"CCDS{gene_no}.1", f"ENSP{gene_no * 10 + t:011d}.1", "",
            f"deleterious({rng.random():.2f})" if coding else "", f"probably_damaging({rng.random():.3f})" if coding else "",
            "", f"{rng.random() / 1000:.6f}" if rng.random() < 0.2 else "", "", "", "",
        )))
    return ",".join(entries)


def _sample(rng: random.Random, alts: int, tumour: bool) -> str:
    depth = rng.randint(40, 900)
    fractions = [rng.uniform(0.03, 0.6) if tumour else rng.uniform(0.0, 0.01) for _ in range(alts)]
    alt_depths = [int(depth * f) for f in fractions]
    ref_depth = max(depth - sum(alt_depths), 0)
    gt = "0/1" if alts == 1 else "1/2"
    if not tumour:
        gt = "0/0"
    ad = ",".join(str(x) for x in (ref_depth, *alt_depths))
    af = ",".join(f"{f:.3f}" for f in fractions)
    return f"{gt}:{ad}:{af}:{depth}"


def _braf_line() -> str:
    chrom, pos, ref, alt = BRAF_V600E
    csq = (f"{alt}|missense_variant|MODERATE|BRAF|ENSG00000157764|Transcript|ENST00000646891.2|protein_coding|15/18||"
           "ENST00000646891.2:c.1799T>A|ENSP00000493543.1:p.Val600Glu|1919|1799|600|V/E|gTg/gAg|rs113488022||-1||"
           "HGNC|HGNC:1097|YES|NM_004333.6|||CCDS94218.1|ENSP00000493543.1|P15056.256|deleterious(0)|"
           "probably_damaging(0.963)||||pathogenic|1|1")
    return f"chr{chrom}\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\tDP=612;SOMATIC;CSQ={csq}\tGT:AD:AF:DP\t0/1:380,232:0.379:612\t0/0:300,0:0.000:300\n"


def write_vcf(out: Path, records: int, seed: int, braf_v600e: bool = False) -> Path:
    """Write a bgzipped VCF of `records` sites to `out`; the same arguments give the same bytes."""
    rng = random.Random(seed)
    per_contig = {name: records * length // sum(GRCH38.values()) for name, length in GRCH38.items()}
    per_contig["1"] += records - sum(per_contig.values()) - (1 if braf_v600e else 0)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        plain = Path(tmp) / "plain.vcf"
        with plain.open("w") as handle:
            handle.write(header(("TUMOR", "NORMAL")))
            for name, count in per_contig.items():
                positions = sorted(rng.sample(range(10_000, GRCH38[name] - 10_000), count))
                lines = []
                for pos in positions:
                    if braf_v600e and name == BRAF_V600E[0] and pos > BRAF_V600E[1]:
                        handle.write("".join(lines))
                        handle.write(_braf_line())
                        lines, braf_v600e = [], False
                    ref, alts = _alleles(rng)
                    gene = rng.randint(1, 19000)
                    csq = ",".join(_csq(rng, alt, gene, rng.randint(1, 4)) for alt in alts)
                    flt = "PASS" if rng.random() < 0.9 else "weak_evidence"
                    lines.append(
                        f"chr{name}\t{pos}\t.\t{ref}\t{','.join(alts)}\t.\t{flt}\tDP={rng.randint(60, 1200)};SOMATIC;"
                        f"CSQ={csq}\tGT:AD:AF:DP\t{_sample(rng, len(alts), True)}\t{_sample(rng, len(alts), False)}\n"
                    )
                handle.write("".join(lines))
                if braf_v600e and name == BRAF_V600E[0]:
                    handle.write(_braf_line())
                    braf_v600e = False
        pysam.tabix_compress(str(plain), str(out), force=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--braf-v600e", action="store_true", help="include BRAF p.V600E (an actionable finding)")
    args = parser.parse_args()
    write_vcf(args.out, args.records, args.seed, args.braf_v600e)
    print(args.out)


if __name__ == "__main__":
    main()
