package fhirapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/drg"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhirapi"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

func TestDRGOperation(t *testing.T) {
	db := sqldbtest.Open(t)
	st := store.New(db, fhir.R4(), nil)
	g := drg.New()
	h := (&fhirapi.Handler{Store: st, Types: []string{"Claim"}, Operations: fhirapi.DRGOperations(g)}).Init()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(custodian.NewContextWithActor(context.Background(), testActor)))
	}))
	defer srv.Close()
	c := &client{tb: t, base: srv.URL, http: srv.Client()}

	// v43.1 test claim 431-017861 of the CMS grouper: two falls-and-trauma
	// HACs not present on admission take DRG 562 (with MCC) to 563.
	claim := `{"resourceType":"Claim","status":"active","use":"claim","patient":{"reference":"Patient/p"},
		"supportingInfo":[
			{"sequence":1,"category":{"coding":[{"code":"discharge"}]},"code":{"coding":[{"code":"01"}]}},
			{"sequence":2,"category":{"coding":[{"code":"hospitalized"}]},"timingPeriod":{"start":"2026-05-01","end":"2026-05-04"}}],
		"diagnosis":[
			{"sequence":2,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"S32491B"}]},"onAdmission":{"coding":[{"code":"n"}]}},
			{"sequence":1,"type":[{"coding":[{"code":"principal"}]}],"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"S92.315A"}]},"onAdmission":{"coding":[{"code":"y"}]}},
			{"sequence":3,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"S62641A"}]},"onAdmission":{"coding":[{"code":"n"}]}}]}`
	got := c.do("POST", "/fhir/Claim/$drg", `{"resourceType":"Parameters","parameter":[
		{"name":"age","valueInteger":70},{"name":"sex","valueCode":"female"},
		{"name":"claim","resource":`+claim+`}]}`).must(t, 200)
	want := map[string]string{"version": "v43.1", "finalMDC": "8", "finalDRG": "563", "initialDRG": "562",
		"returnCode": "OK", "hacStatus": "FINAL_DRG_CHANGES", "weightsNote": "no weights table loaded"}
	for i := 0; i < 12; i++ {
		name := got.str("parameter", drgItoa(i), "name")
		if w, ok := want[name]; ok {
			v := got.str("parameter", drgItoa(i), "valueString") + got.str("parameter", drgItoa(i), "valueCode")
			if v != w {
				t.Errorf("%s = %q, want %q", name, v, w)
			}
			delete(want, name)
		}
	}
	if len(want) > 0 {
		t.Errorf("missing %v in %s", want, got.raw)
	}
	if !strings.Contains(string(got.raw), `"name":"hacs","valueInteger":5`) || !strings.Contains(string(got.raw), `"formula"`) {
		t.Errorf("the explanation lacks the HAC or the formula: %.2000s", got.raw)
	}

	// Flat parameters on a GET.
	got = c.do("GET", "/fhir/Claim/$drg?age=73&sex=M&dischargeStatus=1&pdx=M4056:Y&sdx=S82853R:Y&version=v43.1", "").must(t, 200)
	if got.str("parameter", "2", "name") != "finalDRG" || got.str("parameter", "2", "valueString") != "552" {
		t.Errorf("flat GET: %.500s", got.raw)
	}

	// Bad input is a 400 OperationOutcome.
	for _, q := range []string{
		"?sex=M&dischargeStatus=1&pdx=M4056:Y",
		"?age=73&sex=X&dischargeStatus=1&pdx=M4056:Y",
		"?age=73&sex=M&pdx=M4056:Y",
		"?age=73&sex=M&dischargeStatus=1",
		"?age=73&sex=M&dischargeStatus=1&pdx=M4056:Q",
		"?age=73&sex=M&dischargeStatus=1&pdx=M4056:Y&version=v12",
		"?age=73&sex=M&dischargeStatus=1&pdx=M4056:Y&dischargeDate=2019-01-01",
	} {
		bad := c.do("GET", "/fhir/Claim/$drg"+q, "").must(t, 400)
		if bad.str("resourceType") != "OperationOutcome" {
			t.Errorf("%s: %s", q, bad.raw)
		}
	}
}

func drgItoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return string(rune('0'+i/10)) + string(rune('0'+i%10))
}
