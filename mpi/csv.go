package mpi

import (
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/custodian-him/custodian"
)

// Field names a Record field for a CSV column mapping.
const (
	FieldID           = "id"
	FieldGiven        = "given"
	FieldMiddle       = "middle"
	FieldFamily       = "family"
	FieldSuffix       = "suffix"
	FieldSex          = "sex"
	FieldBirthDate    = "birth_date"
	FieldStreetNumber = "street_number"
	FieldAddress1     = "address_1"
	FieldAddress2     = "address_2"
	FieldCity         = "city"
	FieldPostcode     = "postcode"
	FieldState        = "state"
	FieldPhone        = "phone"
	FieldEmail        = "email"
	FieldSSN          = "ssn"
)

// columnAliases maps usual column names (lower case, letters and digits
// only) to fields.
var columnAliases = map[string]string{
	"id": FieldID, "recid": FieldID, "recordid": FieldID, "uniqueid": FieldID, "patientid": FieldID, "mrn": FieldID,
	"givenname": FieldGiven, "given": FieldGiven, "firstname": FieldGiven, "first": FieldGiven, "forename": FieldGiven, "fname": FieldGiven,
	"middlename": FieldMiddle, "middle": FieldMiddle, "middlenames": FieldMiddle,
	"surname": FieldFamily, "lastname": FieldFamily, "familyname": FieldFamily, "family": FieldFamily, "last": FieldFamily, "lname": FieldFamily,
	"suffix": FieldSuffix, "namesuffix": FieldSuffix,
	"sex": FieldSex, "gender": FieldSex,
	"dateofbirth": FieldBirthDate, "birthdate": FieldBirthDate, "dob": FieldBirthDate, "birthday": FieldBirthDate,
	"streetnumber": FieldStreetNumber, "housenumber": FieldStreetNumber,
	"address1": FieldAddress1, "address": FieldAddress1, "addressline1": FieldAddress1, "street": FieldAddress1, "line": FieldAddress1,
	"address2": FieldAddress2, "addressline2": FieldAddress2,
	"suburb": FieldCity, "city": FieldCity, "town": FieldCity, "locality": FieldCity,
	"postcode": FieldPostcode, "zip": FieldPostcode, "zipcode": FieldPostcode, "postalcode": FieldPostcode,
	"state": FieldState, "province": FieldState,
	"phone": FieldPhone, "phonenumber": FieldPhone, "telephone": FieldPhone, "homephone": FieldPhone, "mobile": FieldPhone, "cellphone": FieldPhone,
	"email": FieldEmail, "emailaddress": FieldEmail,
	"socsecid": FieldSSN, "ssn": FieldSSN, "socialsecuritynumber": FieldSSN, "nationalid": FieldSSN,
}

var knownFields = map[string]bool{FieldID: true, FieldGiven: true, FieldMiddle: true, FieldFamily: true, FieldSuffix: true,
	FieldSex: true, FieldBirthDate: true, FieldStreetNumber: true, FieldAddress1: true, FieldAddress2: true, FieldCity: true,
	FieldPostcode: true, FieldState: true, FieldPhone: true, FieldEmail: true, FieldSSN: true}

// CSVOptions says which columns hold which fields. Columns with usual
// names (given_name, first_name, surname, dob, zip, soc_sec_id, …) are
// recognised without a mapping.
type CSVOptions struct {
	// IDColumn names the id column; empty means a column recognised as an
	// id (rec_id, id, …) or, failing that, the row number.
	IDColumn string
	// Map maps field names (the Field* constants) to column names, over
	// the recognised ones.
	Map map[string]string
}

func headerKey(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ReadCSV reads records from CSV with a header row. Blank values and
// missing columns are fine. It returns EINVALID for a mapping to an
// unknown field or column, a header with no column it can use, a
// malformed row, or a duplicate id.
func ReadCSV(r io.Reader, opt CSVOptions) ([]Record, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, custodian.Errorf(custodian.EINVALID, "mpi: the CSV is empty (a header row is needed)")
	} else if err != nil {
		return nil, custodian.Errorf(custodian.EINVALID, "mpi: CSV header: %v", err)
	}
	col := map[string]int{} // field -> column index
	byName := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		byName[strings.ToLower(h)] = i
		if f, ok := columnAliases[headerKey(h)]; ok {
			if _, taken := col[f]; !taken {
				col[f] = i
			}
		}
	}
	for f, name := range opt.Map {
		if !knownFields[f] {
			return nil, custodian.Errorf(custodian.EINVALID, "mpi: unknown field %q in the column mapping", f)
		}
		i, ok := byName[strings.ToLower(strings.TrimSpace(name))]
		if !ok {
			return nil, custodian.Errorf(custodian.EINVALID, "mpi: no column %q in the CSV header", name)
		}
		col[f] = i
	}
	if opt.IDColumn != "" {
		i, ok := byName[strings.ToLower(opt.IDColumn)]
		if !ok {
			return nil, custodian.Errorf(custodian.EINVALID, "mpi: no id column %q in the CSV header", opt.IDColumn)
		}
		col[FieldID] = i
	}
	usable := 0
	for f := range col {
		if f != FieldID {
			usable++
		}
	}
	if usable == 0 {
		return nil, custodian.Errorf(custodian.EINVALID, "mpi: no CSV column is a known field (name them with a mapping)")
	}
	var recs []Record
	ids := map[string]struct{}{}
	for row := 2; ; row++ {
		vals, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, custodian.Errorf(custodian.EINVALID, "mpi: CSV line %d: %v", pe.Line, pe.Err)
			}
			return nil, err
		}
		get := func(f string) string {
			if i, ok := col[f]; ok && i < len(vals) {
				return strings.TrimSpace(vals[i])
			}
			return ""
		}
		rec := Record{ID: get(FieldID), Given: get(FieldGiven), Middle: get(FieldMiddle), Family: get(FieldFamily),
			Suffix: get(FieldSuffix), Sex: get(FieldSex), BirthDate: get(FieldBirthDate), StreetNumber: get(FieldStreetNumber),
			Address1: get(FieldAddress1), Address2: get(FieldAddress2), City: get(FieldCity), Postcode: get(FieldPostcode),
			State: get(FieldState), Email: get(FieldEmail), SSN: get(FieldSSN)}
		if p := get(FieldPhone); p != "" {
			rec.Phones = []string{p}
		}
		if _, ok := col[FieldID]; !ok {
			rec.ID = strconv.Itoa(row - 1)
		}
		if rec.ID == "" {
			return nil, custodian.Errorf(custodian.EINVALID, "mpi: CSV line %d has no id", row)
		}
		if _, dup := ids[rec.ID]; dup {
			return nil, custodian.Errorf(custodian.EINVALID, "mpi: CSV line %d repeats the id %q", row, rec.ID)
		}
		ids[rec.ID] = struct{}{}
		recs = append(recs, rec)
	}
	return recs, nil
}
