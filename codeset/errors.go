package codeset

import "github.com/custodian-him/custodian"

func errMessage(err error) string { return custodian.ErrorMessage(err) }
