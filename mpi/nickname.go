package mpi

import "strings"

// nicknameList pairs formal given names with the short and familiar forms
// people register under. Written for this package from common English
// usage; a nickname may belong to several formal names (chris).
const nicknameList = `
abigail: abby abbie gail
abraham: abe
alexander: alex al alec sandy xander
alexandra: alex alexa sandra sandy lexi
alfred: al alf alfie fred
allison: ali allie
andrew: andy drew
angela: angie
anthony: tony ant
antonio: tony
arthur: art artie
barbara: barb barbie babs
benjamin: ben benny benji
bernard: bernie
beverly: bev
bradley: brad
calvin: cal
catherine: cathy kate katie cat kathy
katherine: kathy kate katie kat kay kitty
kathleen: kathy kate katie
charles: charlie chuck chas chaz
charlotte: charlie lottie
christina: chris tina christy
christine: chris tina chrissy
christopher: chris kit topher
clifford: cliff
cynthia: cindy
daniel: dan danny
danielle: dani elle
david: dave davey
deborah: deb debbie debra
donald: don donnie
dorothy: dot dottie
douglas: doug
edward: ed eddie ted ned teddy
eleanor: ellie nora
elizabeth: liz beth betty lizzie eliza libby bess betsy lisa
emily: em emmy
eugene: gene
frances: fran frannie
francis: frank fran
franklin: frank
frederick: fred freddie fritz
gabriel: gabe
gabrielle: gabby
gerald: gerry jerry
gregory: greg
harold: hal harry
henry: hank harry
isabella: bella izzy
isabelle: bella izzy
jacob: jake
james: jim jimmy jamie
janet: jan
jennifer: jen jenny jenn
jessica: jess jessie
jonathan: jon jonny
john: jack johnny jon
joseph: joe joey
joshua: josh
judith: judy
kenneth: ken kenny
kimberly: kim
lawrence: larry
leonard: leo len lenny
louis: lou
margaret: maggie meg peggy marge madge greta
matthew: matt matty
megan: meg
melissa: mel missy
michael: mike mikey mick
michelle: shelly
mitchell: mitch
nathan: nate
nathaniel: nate nat
nicholas: nick nicky
nicole: nicki nikki
oliver: ollie
pamela: pam
patricia: pat patty trish tricia
patrick: pat paddy rick
peter: pete
philip: phil
phillip: phil
rebecca: becky becca
richard: rick rich dick richie ricky
robert: bob rob bobby robbie bert
ronald: ron ronnie
samantha: sam sammy
samuel: sam sammy
sandra: sandy
stephanie: steph
stephen: steve
steven: steve
susan: sue susie suzy suzie
suzanne: sue suzy
theodore: ted teddy theo
thomas: tom tommy
timothy: tim timmy
valerie: val
victoria: vicky tori
vincent: vince vinny
virginia: ginny
walter: walt wally
william: bill will billy willy liam
zachary: zach zack
jeffrey: jeff
geoffrey: geoff jeff
raymond: ray
albert: al bert bertie
stanley: stan
jacqueline: jackie jacqui
theresa: terry tess tessa
teresa: terry tess
terence: terry
carolyn: carol carrie
caroline: carol carrie
amanda: mandy manda
natalie: nat
penelope: penny
margot: maggie
alexis: lexi alex
harriet: hattie
josephine: jo josie
joanne: jo
lucille: lucy
marjorie: marge margie
mary: molly polly mae
sarah: sally sadie
helen: nell
ellen: nell
jerome: jerry
jeremy: jerry
louise: lou
jacob: jake
randall: randy
randolph: randy
rodney: rod
roger: rog
russell: russ
dennis: denny
gordon: gordie
howard: howie
kristen: kris
kristina: kris tina
leslie: les
cameron: cam
timothy: tim timmy
`

// nicknames maps every listed name, formal or familiar, to the formal
// names it can stand for.
var nicknames = func() map[string][]string {
	m := map[string][]string{}
	for _, line := range strings.Split(nicknameList, "\n") {
		formal, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		formal = strings.TrimSpace(formal)
		m[formal] = append(m[formal], formal)
		for _, n := range strings.Fields(rest) {
			m[n] = append(m[n], formal)
		}
	}
	return m
}()

// variants maps a formal name to itself and its familiar forms.
var variants = func() map[string][]string {
	m := map[string][]string{}
	for n, formals := range nicknames {
		for _, f := range formals {
			m[f] = append(m[f], n)
		}
	}
	return m
}()

// nicknameClose reports whether a is one keying error (or Jaro-Winkler
// 0.92) away from some form of b's formal names: a mistyped nickname.
func nicknameClose(a, b string) bool {
	for _, f := range nicknames[b] {
		for _, v := range variants[f] {
			if withinOneEdit(a, v) || JaroWinkler(a, v) >= 0.92 {
				return true
			}
		}
	}
	return false
}

// canonicalGiven is the formal name a given name stands for (the first
// listed when several), or the name itself.
func canonicalGiven(g string) string {
	if f := nicknames[g]; len(f) > 0 {
		return f[0]
	}
	return g
}

// sameNickname reports whether two given names can be the same name, one
// a familiar form of the other or both of one formal name.
func sameNickname(a, b string) bool {
	fa, fb := nicknames[a], nicknames[b]
	for _, x := range fa {
		for _, y := range fb {
			if x == y {
				return true
			}
		}
	}
	return false
}
