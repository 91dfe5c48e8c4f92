//! Encryption at rest for kehu books.
//!
//! A book key (32 bytes) comes from a [`KeyProvider`] the app implements
//! (Android Keystore, iOS Keychain, a KMS) or one shipped here: a passphrase
//! stretched with Argon2id ([`Passphrase`]) or a key file ([`KeyFile`]).
//! [`BookCodec`] is the store's [`FieldCodec`]: each customer's personal
//! fields, related records, history and documents are sealed with
//! XChaCha20-Poly1305 under a data key of that customer's own, itself wrapped
//! by the book key, so destroying it (`forget`) makes every copy unreadable;
//! lookup values (e-mail, phone, external id, tags, dedupe keys) are stored as
//! blind indexes — blake3 keyed hashes under a key derived from the book key.

#![warn(missing_docs)]

use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use kehu_model::CustomerId;
use kehu_store::{DataKey, FieldCodec, KeyRing};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

/// What can go wrong with keys.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The key does not open this book (a wrong passphrase or key file).
    #[error("wrong key: this book was encrypted with another passphrase or key")]
    WrongKey,
    /// The key provider could not give a key.
    #[error("key provider: {0}")]
    Provider(String),
    /// The book's key header does not decode.
    #[error("the book's key header is damaged: {0}")]
    Header(String),
    /// The system's random source failed.
    #[error("no randomness from the system: {0}")]
    Random(String),
}

impl From<Error> for kehu_store::Error {
    fn from(e: Error) -> Self {
        kehu_store::Error::Codec(e.to_string())
    }
}

/// A 32-byte book key; wiped when dropped.
pub type BookKey = Zeroizing<[u8; 32]>;

/// Where a book's key comes from. `salt` is the book's own, kept in its file,
/// for providers that derive the key from a secret such as a passphrase.
pub trait KeyProvider: Send + Sync {
    /// The book key.
    fn book_key(&self, salt: &[u8; 16]) -> Result<BookKey, Error>;
}

/// A passphrase, stretched with Argon2id (19 MiB, 2 passes: OWASP's minimum).
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// A provider for this passphrase (it must not be empty).
    pub fn new(passphrase: impl Into<String>) -> Result<Self, Error> {
        let p = Zeroizing::new(passphrase.into());
        if p.is_empty() {
            return Err(Error::Provider("the passphrase is empty".into()));
        }
        Ok(Self(p))
    }
}

impl KeyProvider for Passphrase {
    fn book_key(&self, salt: &[u8; 16]) -> Result<BookKey, Error> {
        let params = argon2::Params::new(19 * 1024, 2, 1, Some(32))
            .map_err(|e| Error::Provider(e.to_string()))?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut key = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(self.0.as_bytes(), salt, key.as_mut())
            .map_err(|e| Error::Provider(e.to_string()))?;
        Ok(key)
    }
}

/// A key file: 32 random bytes, written as 64 hexadecimal characters.
pub struct KeyFile(PathBuf);

impl KeyFile {
    /// A provider reading the key file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self(path.into())
    }

    /// Writes a new random key file at `path` (refusing to overwrite one), readable by its owner only.
    pub fn create(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let mut key = Zeroizing::new([0u8; 32]);
        random(key.as_mut())?;
        let mut hex = Zeroizing::new(String::with_capacity(65));
        for b in key.iter() {
            hex.push_str(&format!("{b:02x}"));
        }
        hex.push('\n');
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(path)
            .map_err(|e| Error::Provider(format!("{}: {e}", path.display())))?;
        std::io::Write::write_all(&mut file, hex.as_bytes())
            .map_err(|e| Error::Provider(format!("{}: {e}", path.display())))?;
        Ok(Self(path.to_path_buf()))
    }
}

impl KeyProvider for KeyFile {
    fn book_key(&self, _salt: &[u8; 16]) -> Result<BookKey, Error> {
        let text = Zeroizing::new(
            std::fs::read_to_string(&self.0)
                .map_err(|e| Error::Provider(format!("key file {}: {e}", self.0.display())))?,
        );
        let hex = text.trim();
        let bad = || {
            Error::Provider(format!(
                "key file {}: not 64 hexadecimal characters",
                self.0.display()
            ))
        };
        if hex.len() != 64 {
            return Err(bad());
        }
        let mut key = Zeroizing::new([0u8; 32]);
        for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
            let s = std::str::from_utf8(pair).map_err(|_| bad())?;
            key[i] = u8::from_str_radix(s, 16).map_err(|_| bad())?;
        }
        Ok(key)
    }
}

/// A key given directly (from a keychain, a KMS, a test).
pub struct RawKey(BookKey);

impl RawKey {
    /// A provider of this key.
    pub fn new(key: [u8; 32]) -> Self {
        Self(Zeroizing::new(key))
    }
}

impl KeyProvider for RawKey {
    fn book_key(&self, _salt: &[u8; 16]) -> Result<BookKey, Error> {
        Ok(self.0.clone())
    }
}

/// What a sealed book keeps in its file about its key: the salt, a value
/// sealed under the key to tell a wrong key at once, and the book's own
/// secrets (blind-index key, key of book-level values, backup checksum key)
/// wrapped by the key — so a new key re-wraps them and changes nothing else.
#[derive(Serialize, Deserialize)]
struct Header {
    version: u8,
    salt: [u8; 16],
    check: Vec<u8>,
    secrets: Vec<u8>,
}

const CHECK: &[u8] = b"kehu book key check";

/// The codec of an encrypted book.
pub struct BookCodec {
    /// Wraps the customers' data keys and the book's secrets (from the book key).
    wrap: XChaCha20Poly1305,
    /// Seals values that belong to no customer.
    book: XChaCha20Poly1305,
    index: [u8; 32],
    backup: [u8; 32],
}

impl Drop for BookCodec {
    fn drop(&mut self) {
        self.index.zeroize();
        self.backup.zeroize();
    }
}

/// The book's secrets: blind-index key, book-value key, backup key.
struct Secrets(Zeroizing<[u8; 96]>);

impl BookCodec {
    /// The codec for a book with this key header (none: a new book, whose
    /// header is made here). Returns the codec and the header to store.
    pub fn open(
        provider: &dyn KeyProvider,
        header: Option<&[u8]>,
    ) -> Result<(Self, Vec<u8>), Error> {
        match header {
            Some(bytes) => {
                let h = parse_header(bytes)?;
                let wrap = wrapping(&*provider.book_key(&h.salt)?);
                let secrets = open_header(&wrap, &h)?;
                Ok((Self::assemble(wrap, &secrets), bytes.to_vec()))
            }
            None => {
                let mut salt = [0u8; 16];
                random(&mut salt)?;
                let mut secrets = Secrets(Zeroizing::new([0u8; 96]));
                random(secrets.0.as_mut())?;
                let wrap = wrapping(&*provider.book_key(&salt)?);
                let header = seal_header(&wrap, salt, &secrets)?;
                Ok((Self::assemble(wrap, &secrets), header))
            }
        }
    }

    /// A new header for the same book under another key (from `new`, with a
    /// new salt): the secrets re-wrapped. The old key must open `header`.
    /// Returns the codec under the new key and the new header; the stored
    /// data keys are re-wrapped with [`KeyRing::unwrap_key`] and [`BookCodec::wrap_key`].
    pub fn rekey(
        old: &dyn KeyProvider,
        new: &dyn KeyProvider,
        header: &[u8],
    ) -> Result<(Self, Self, Vec<u8>), Error> {
        let h = parse_header(header)?;
        let old_wrap = wrapping(&*old.book_key(&h.salt)?);
        let secrets = open_header(&old_wrap, &h)?;
        let mut salt = [0u8; 16];
        random(&mut salt)?;
        let new_wrap = wrapping(&*new.book_key(&salt)?);
        let out = seal_header(&new_wrap, salt, &secrets)?;
        Ok((
            Self::assemble(old_wrap, &secrets),
            Self::assemble(new_wrap, &secrets),
            out,
        ))
    }

    /// Wraps an existing data key under this codec's book key.
    pub fn wrap_key(&self, owner: CustomerId, key: &DataKey) -> kehu_store::Result<Vec<u8>> {
        Ok(seal_with(&self.wrap, &aad(1, owner), &key.0)?)
    }

    fn assemble(wrap: XChaCha20Poly1305, secrets: &Secrets) -> Self {
        let s = &secrets.0;
        let mut index = [0u8; 32];
        index.copy_from_slice(&s[..32]);
        let mut book = Zeroizing::new([0u8; 32]);
        book.copy_from_slice(&s[32..64]);
        let mut backup = [0u8; 32];
        backup.copy_from_slice(&s[64..]);
        Self {
            wrap,
            book: XChaCha20Poly1305::new(book.as_ref().into()),
            index,
            backup,
        }
    }
}

fn parse_header(bytes: &[u8]) -> Result<Header, Error> {
    let h: Header = postcard::from_bytes(bytes).map_err(|e| Error::Header(e.to_string()))?;
    if h.version != 2 {
        return Err(Error::Header(format!(
            "unknown key header version {}",
            h.version
        )));
    }
    Ok(h)
}

/// The cipher that wraps keys, from the book key.
fn wrapping(key: &[u8; 32]) -> XChaCha20Poly1305 {
    let derived = Zeroizing::new(blake3::derive_key("kehu 2026-11 book wrapping key", key));
    XChaCha20Poly1305::new(derived.as_ref().into())
}

fn open_header(wrap: &XChaCha20Poly1305, h: &Header) -> Result<Secrets, Error> {
    let opened = open_with(wrap, b"check", &h.check).map_err(|_| Error::WrongKey)?;
    if opened != CHECK {
        return Err(Error::WrongKey);
    }
    let plain =
        Zeroizing::new(open_with(wrap, b"secrets", &h.secrets).map_err(|_| Error::WrongKey)?);
    let mut out = Secrets(Zeroizing::new([0u8; 96]));
    if plain.len() != 96 {
        return Err(Error::Header("the book's secrets are damaged".into()));
    }
    out.0.copy_from_slice(&plain);
    Ok(out)
}

fn seal_header(
    wrap: &XChaCha20Poly1305,
    salt: [u8; 16],
    secrets: &Secrets,
) -> Result<Vec<u8>, Error> {
    postcard::to_allocvec(&Header {
        version: 2,
        salt,
        check: seal_with(wrap, b"check", CHECK)?,
        secrets: seal_with(wrap, b"secrets", secrets.0.as_ref())?,
    })
    .map_err(|e| Error::Header(e.to_string()))
}

fn random(buf: &mut [u8]) -> Result<(), Error> {
    getrandom::fill(buf).map_err(|e| Error::Random(e.to_string()))
}

/// `nonce (24) || ciphertext+tag`, with `aad` authenticated.
fn seal_with(cipher: &XChaCha20Poly1305, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, Error> {
    let mut nonce = [0u8; 24];
    random(&mut nonce)?;
    let sealed = cipher
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad })
        .map_err(|_| Error::Provider("encryption failed".into()))?;
    let mut out = Vec::with_capacity(24 + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

fn open_with(
    cipher: &XChaCha20Poly1305,
    aad: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, kehu_store::Error> {
    let damaged = || {
        kehu_store::Error::Codec(
            "a sealed value does not open: it was changed, or belongs to another book".into(),
        )
    };
    if sealed.len() < 24 + 16 {
        return Err(damaged());
    }
    let (nonce, body) = sealed.split_at(24);
    cipher
        .decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad })
        .map_err(|_| damaged())
}

fn aad(tag: u8, owner: CustomerId) -> [u8; 17] {
    let mut a = [0u8; 17];
    a[0] = tag;
    a[1..].copy_from_slice(&owner.to_bytes());
    a
}

impl FieldCodec for BookCodec {
    fn seal(&self, owner: CustomerId, plain: Vec<u8>) -> kehu_store::Result<Vec<u8>> {
        Ok(seal_with(&self.book, &aad(0, owner), &plain)?)
    }

    fn open(&self, owner: CustomerId, sealed: Vec<u8>) -> kehu_store::Result<Vec<u8>> {
        open_with(&self.book, &aad(0, owner), &sealed)
    }

    fn index_key(&self, plain: Vec<u8>) -> Vec<u8> {
        blake3::keyed_hash(&self.index, &plain).as_bytes()[..16].to_vec()
    }

    fn key_ring(&self) -> Option<&dyn KeyRing> {
        Some(self)
    }

    fn backup_key(&self) -> Option<[u8; 32]> {
        Some(self.backup)
    }
}

impl KeyRing for BookCodec {
    fn new_key(&self, owner: CustomerId) -> kehu_store::Result<(DataKey, Vec<u8>)> {
        let mut key = DataKey([0u8; 32]);
        random(&mut key.0)?;
        let wrapped = self.wrap_key(owner, &key)?;
        Ok((key, wrapped))
    }

    fn unwrap_key(&self, owner: CustomerId, wrapped: &[u8]) -> kehu_store::Result<DataKey> {
        let mut plain = Zeroizing::new(open_with(&self.wrap, &aad(1, owner), wrapped)?);
        let bytes: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| kehu_store::Error::Codec("a stored data key is damaged".into()))?;
        plain.zeroize();
        Ok(DataKey(bytes))
    }

    fn seal(
        &self,
        key: &DataKey,
        owner: CustomerId,
        plain: Vec<u8>,
    ) -> kehu_store::Result<Vec<u8>> {
        let cipher = XChaCha20Poly1305::new((&key.0).into());
        Ok(seal_with(&cipher, &aad(2, owner), &plain)?)
    }

    fn open(
        &self,
        key: &DataKey,
        owner: CustomerId,
        sealed: Vec<u8>,
    ) -> kehu_store::Result<Vec<u8>> {
        let cipher = XChaCha20Poly1305::new((&key.0).into());
        open_with(&cipher, &aad(2, owner), &sealed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_key_is_told_at_once() {
        let (_, header) = BookCodec::open(&RawKey::new([7; 32]), None).unwrap();
        assert!(BookCodec::open(&RawKey::new([7; 32]), Some(&header)).is_ok());
        assert!(matches!(
            BookCodec::open(&RawKey::new([8; 32]), Some(&header)),
            Err(Error::WrongKey)
        ));
        let p = Passphrase::new("correct horse").unwrap();
        let (_, header) = BookCodec::open(&p, None).unwrap();
        assert!(BookCodec::open(&Passphrase::new("correct horse").unwrap(), Some(&header)).is_ok());
        assert!(matches!(
            BookCodec::open(&Passphrase::new("wrong horse").unwrap(), Some(&header)),
            Err(Error::WrongKey)
        ));
        assert!(Passphrase::new("").is_err());
        assert!(matches!(
            BookCodec::open(&RawKey::new([7; 32]), Some(b"junk")),
            Err(Error::Header(_))
        ));
    }

    #[test]
    fn sealed_values_are_bound_to_their_owner_and_detect_changes() {
        let (codec, _) = BookCodec::open(&RawKey::new([1; 32]), None).unwrap();
        let (a, b) = (CustomerId::new(), CustomerId::new());
        let (key, wrapped) = codec.new_key(a).unwrap();
        let sealed = KeyRing::seal(&codec, &key, a, b"Zhang Wei".to_vec()).unwrap();
        assert!(!sealed.windows(9).any(|w| w == b"Zhang Wei"));
        assert_eq!(
            KeyRing::open(&codec, &key, a, sealed.clone()).unwrap(),
            b"Zhang Wei"
        );
        assert!(KeyRing::open(&codec, &key, b, sealed.clone()).is_err());
        let mut flipped = sealed.clone();
        flipped[30] ^= 1;
        assert!(KeyRing::open(&codec, &key, a, flipped).is_err());
        assert_eq!(codec.unwrap_key(a, &wrapped).unwrap().0, key.0);
        assert!(codec.unwrap_key(b, &wrapped).is_err());
        let (other, _) = BookCodec::open(&RawKey::new([2; 32]), None).unwrap();
        assert!(other.unwrap_key(a, &wrapped).is_err());
    }

    #[test]
    fn blind_indexes_are_keyed() {
        let (a, _) = BookCodec::open(&RawKey::new([1; 32]), None).unwrap();
        let (b, _) = BookCodec::open(&RawKey::new([2; 32]), None).unwrap();
        let v = b"wei@example.com".to_vec();
        assert_eq!(a.index_key(v.clone()), a.index_key(v.clone()));
        assert_ne!(a.index_key(v.clone()), b.index_key(v.clone()));
        assert_eq!(a.index_key(v).len(), 16);
    }

    #[test]
    fn key_files_round_trip_and_bad_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("book.key");
        let kf = KeyFile::create(&path).unwrap();
        let k1 = kf.book_key(&[0; 16]).unwrap();
        assert_eq!(KeyFile::new(&path).book_key(&[1; 16]).unwrap(), k1);
        assert!(
            KeyFile::create(&path).is_err(),
            "never overwrites a key file"
        );
        std::fs::write(dir.path().join("bad.key"), "xyz").unwrap();
        assert!(KeyFile::new(dir.path().join("bad.key"))
            .book_key(&[0; 16])
            .is_err());
        assert!(KeyFile::new(dir.path().join("missing.key"))
            .book_key(&[0; 16])
            .is_err());
    }
}
