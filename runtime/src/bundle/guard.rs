//! A serde deserializer adapter that bounds nesting depth.
//!
//! The bundle holds recursive types (`ColumnType::List(Box<ColumnType>)`, `Value::List(…)`),
//! and postcard, being a non-self-describing format without a recursion limit, would recurse
//! once per nesting level of the *input*: a few hundred thousand crafted bytes would overflow the
//! stack and abort the process. [`Guard`] wraps any [`Deserializer`] and fails cleanly once
//! values nest deeper than a limit, before anything deep is built (so dropping, cloning and
//! comparing what was decoded can never recurse deeply either).
//!
//! Every nesting level of the input passes through one `deserialize_*` call of a `Guard`: the
//! adapter wraps each visitor, sequence, map and enum access it hands out so that the
//! deserializers they create for inner values are guarded too.

use std::cell::Cell;
use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};

/// Wraps a deserializer, limiting nesting to `limit` levels.
pub(crate) struct Guard<'c, D> {
    de: D,
    depth: u32,
    limit: u32,
    hit: &'c Cell<bool>,
}

impl<'c, D> Guard<'c, D> {
    /// A guard at depth 0; `hit` is set when the limit is reached.
    pub(crate) fn new(de: D, limit: u32, hit: &'c Cell<bool>) -> Self {
        Guard {
            de,
            depth: 0,
            limit,
            hit,
        }
    }
}

#[derive(Clone, Copy)]
struct Ctx<'c> {
    depth: u32,
    limit: u32,
    hit: &'c Cell<bool>,
}

impl<'c> Ctx<'c> {
    fn guard<D>(self, de: D) -> Guard<'c, D> {
        Guard {
            de,
            depth: self.depth,
            limit: self.limit,
            hit: self.hit,
        }
    }
}

struct GuardVisitor<'c, V> {
    inner: V,
    ctx: Ctx<'c>,
}

struct GuardSeed<'c, S> {
    inner: S,
    ctx: Ctx<'c>,
}

struct GuardAccess<'c, A> {
    inner: A,
    ctx: Ctx<'c>,
}

impl<'c, D> Guard<'c, D> {
    fn enter<E: de::Error>(&self) -> Result<Ctx<'c>, E> {
        if self.depth >= self.limit {
            self.hit.set(true);
            return Err(E::custom(format_args!(
                "values nest deeper than {} levels",
                self.limit
            )));
        }
        Ok(Ctx {
            depth: self.depth + 1,
            limit: self.limit,
            hit: self.hit,
        })
    }
}

macro_rules! forward_plain {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
                let ctx = self.enter()?;
                self.de.$method(GuardVisitor { inner: visitor, ctx })
            }
        )*
    };
}

impl<'de, 'c, D: Deserializer<'de>> Deserializer<'de> for Guard<'c, D> {
    type Error = D::Error;

    forward_plain! {
        deserialize_any deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32
        deserialize_i64 deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32
        deserialize_u64 deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char
        deserialize_str deserialize_string deserialize_bytes deserialize_byte_buf
        deserialize_option deserialize_unit deserialize_seq deserialize_map
        deserialize_identifier deserialize_ignored_any
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let ctx = self.enter()?;
        self.de.deserialize_unit_struct(
            name,
            GuardVisitor {
                inner: visitor,
                ctx,
            },
        )
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let ctx = self.enter()?;
        self.de.deserialize_newtype_struct(
            name,
            GuardVisitor {
                inner: visitor,
                ctx,
            },
        )
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let ctx = self.enter()?;
        self.de.deserialize_tuple(
            len,
            GuardVisitor {
                inner: visitor,
                ctx,
            },
        )
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let ctx = self.enter()?;
        self.de.deserialize_tuple_struct(
            name,
            len,
            GuardVisitor {
                inner: visitor,
                ctx,
            },
        )
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let ctx = self.enter()?;
        self.de.deserialize_struct(
            name,
            fields,
            GuardVisitor {
                inner: visitor,
                ctx,
            },
        )
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let ctx = self.enter()?;
        self.de.deserialize_enum(
            name,
            variants,
            GuardVisitor {
                inner: visitor,
                ctx,
            },
        )
    }

    fn is_human_readable(&self) -> bool {
        self.de.is_human_readable()
    }
}

macro_rules! visit_plain {
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(
            fn $method<E: de::Error>(self, v: $ty) -> Result<Self::Value, E> {
                self.inner.$method(v)
            }
        )*
    };
}

impl<'de, 'c, V: Visitor<'de>> Visitor<'de> for GuardVisitor<'c, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    visit_plain! {
        visit_bool: bool, visit_i8: i8, visit_i16: i16, visit_i32: i32, visit_i64: i64,
        visit_i128: i128, visit_u8: u8, visit_u16: u16, visit_u32: u32, visit_u64: u64,
        visit_u128: u128, visit_f32: f32, visit_f64: f64, visit_char: char, visit_str: &str,
        visit_borrowed_str: &'de str, visit_string: String, visit_bytes: &[u8],
        visit_borrowed_bytes: &'de [u8], visit_byte_buf: Vec<u8>,
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.inner.visit_some(self.ctx.guard(d))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.inner.visit_newtype_struct(self.ctx.guard(d))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_seq(GuardAccess {
            inner: seq,
            ctx: self.ctx,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_map(GuardAccess {
            inner: map,
            ctx: self.ctx,
        })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_enum(GuardAccess {
            inner: data,
            ctx: self.ctx,
        })
    }
}

impl<'de, 'c, S: DeserializeSeed<'de>> DeserializeSeed<'de> for GuardSeed<'c, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.inner.deserialize(self.ctx.guard(d))
    }
}

impl<'de, 'c, A: SeqAccess<'de>> SeqAccess<'de> for GuardAccess<'c, A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        self.inner.next_element_seed(GuardSeed {
            inner: seed,
            ctx: self.ctx,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, 'c, A: MapAccess<'de>> MapAccess<'de> for GuardAccess<'c, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        self.inner.next_key_seed(GuardSeed {
            inner: seed,
            ctx: self.ctx,
        })
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<T::Value, Self::Error> {
        self.inner.next_value_seed(GuardSeed {
            inner: seed,
            ctx: self.ctx,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, 'c, A: EnumAccess<'de>> EnumAccess<'de> for GuardAccess<'c, A> {
    type Error = A::Error;
    type Variant = GuardAccess<'c, A::Variant>;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Self::Variant), Self::Error> {
        let ctx = self.ctx;
        let (value, variant) = self.inner.variant_seed(GuardSeed { inner: seed, ctx })?;
        Ok((
            value,
            GuardAccess {
                inner: variant,
                ctx,
            },
        ))
    }
}

impl<'de, 'c, A: VariantAccess<'de>> VariantAccess<'de> for GuardAccess<'c, A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), Self::Error> {
        self.inner.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, Self::Error> {
        self.inner.newtype_variant_seed(GuardSeed {
            inner: seed,
            ctx: self.ctx,
        })
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.inner.tuple_variant(
            len,
            GuardVisitor {
                inner: visitor,
                ctx: self.ctx,
            },
        )
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.inner.struct_variant(
            fields,
            GuardVisitor {
                inner: visitor,
                ctx: self.ctx,
            },
        )
    }
}
