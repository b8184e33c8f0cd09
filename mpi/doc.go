// Package mpi links patient records that refer to the same person: the
// master patient index's matching engine.
//
// A Record is what a registration says about a person (names, sex, birth
// date, address, phone, email, SSN). Matching follows the Fellegi-Sunter
// model:
//
//   - normalisation folds case, accents and punctuation, maps nicknames to
//     a formal name, expands address abbreviations and keeps only the
//     digits of phones and identifiers (normalize.go);
//   - blocking puts records that share a cheap key in the same block (SSN,
//     phone, email, birth date with a phonetic code of either name, both
//     names' Double Metaphone codes with the birth year or the postcode,
//     NYSIIS codes, the street and house number), so that only pairs in a
//     common block are compared and a true pair is lost only if it shares
//     no key (block.go);
//   - each candidate pair gets a comparison vector, one agreement level per
//     field: Jaro-Winkler and Damerau-Levenshtein for names, transposed and
//     partial dates, a fuzzy token set for addresses, middle names
//     (fields.go);
//   - the m and u probabilities of every level are estimated without
//     labels: u from value frequencies and random pairs, m and the share of
//     matches by expectation maximisation over the candidate pairs; an
//     exact agreement on a name is then weighted by how rare that name is
//     (term-frequency adjustment) (model.go);
//   - a pair's match probability puts it in one of three classes: link
//     (automatic), review (a person decides) or non-match. An automatic
//     link also needs no conflict on what tells two look-alike people
//     apart (birth date, sex, SSN, first and middle name, generational
//     suffix): twins, a junior and senior, or namesakes go to review at
//     most. An SSN no third record has, with the same first name and
//     birth date, outweighs a married name or a move; a short first name
//     one keying error from a rare spelling is a typo, not a second
//     person. A pair whose first names differ outright and whose sex or
//     birth generation differs too, with no SSN agreeing (a spouse, a
//     parent and child), is a non-match however much of the household
//     it shares; so is a pair short of the link threshold with a conflict
//     on which nothing but demographics agree (chance look-alikes, which
//     a large index holds by the thousand).
//
// The same Model and comparison serve batch deduplication (Dedupe, Link)
// and the live Index (Put, Remove, Match one record against everyone).
package mpi
