// Package hl7v2 reads HL7 version 2 messages (2.3 to 2.8), maps the
// registration (ADT), result (ORU^R01) and document (MDM) messages Custodian
// takes to FHIR R4 transaction entries, and builds the acknowledgements
// (ACK) a sending system waits for.
//
// The parser takes its delimiters from MSH-1 and MSH-2, splits fields,
// repetitions, components and sub-components, and decodes escape sequences
// (\F\ \S\ \T\ \R\ \E\ \Xhh\, and \.br\ as a line break) after splitting, so
// an escaped delimiter never splits a value. Segments end with CR as the
// standard says; LF and CRLF, as files written on other systems have, and a
// leading UTF-8 byte-order mark are tolerated.
//
// Mapping uses tables (code translations, identifier systems) that a site
// can replace: DefaultTables reads the embedded tables.json, and LoadTables
// reads a site's own file in the same format.
package hl7v2
