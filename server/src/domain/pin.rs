//! The 14-digit personal identification number (ПИН). No checksum is applied: none is published.

use serde::Serialize;

/// A syntactically valid PIN.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Pin(String);

impl Pin {
    /// Parses exactly 14 ASCII digits.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.len() == 14 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_string()))
        } else {
            Err("must be exactly 14 digits".into())
        }
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins() {
        assert!(Pin::parse("21504199000012").is_ok());
        for bad in ["", "2150419900001", "215041990000123", "2150419900001a", "２１５０４１９９０００１２"]
        {
            assert!(Pin::parse(bad).is_err(), "{bad}");
        }
    }
}
