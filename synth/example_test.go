package synth_test

import (
	"context"
	"fmt"

	"github.com/custodian-him/custodian/synth"
)

// Generate into memory and look at the first person's registration and
// the ground truth.
func ExampleGenerate() {
	var c synth.Collector
	sum, err := synth.Generate(context.Background(), synth.Config{Patients: 50, Seed: 1}, &c)
	if err != nil {
		panic(err)
	}
	fmt.Println("people:", sum.Patients, "registrations:", sum.Resources["Patient"])
	for i, typ := range c.Types {
		if typ == "Patient" {
			fmt.Println("first Patient id:", c.IDs[i])
			break
		}
	}
	fmt.Println("inpatient stays coded:", sum.Facts[synth.FactCoding])
	// Output:
	// people: 50 registrations: 50
	// first Patient id: 5e41ab087439611e
	// inpatient stays coded: 10
}
