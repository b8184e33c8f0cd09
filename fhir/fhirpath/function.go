package fhirpath

// funcImpl evaluates a function call on its input collection; args are unevaluated so
// that functions such as where() can evaluate them per item.
type funcImpl func(ec *evalCtx, focus Collection, args []node) (Collection, error)

// funcDef describes one function of the library.
type funcDef struct {
	min, max int // number of arguments
	impl     funcImpl
}

// funcNode is a call of a library function.
type funcNode struct {
	name string
	args []node
	def  *funcDef
	at   int
}

func (n *funcNode) eval(ec *evalCtx, focus Collection) (Collection, error) {
	return n.def.impl(ec, focus, n.args)
}

// newFunc resolves a function call at compile time, so that unknown functions and wrong
// argument counts are semantic errors before any evaluation.
func newFunc(name string, args []node, pos int) (node, error) {
	def, ok := functions[name]
	if !ok {
		return nil, semanticErrorf(pos, "unknown function %s()", name)
	}
	if len(args) < def.min || len(args) > def.max {
		return nil, semanticErrorf(pos, "%s() takes %d to %d arguments, got %d", name, def.min, def.max, len(args))
	}
	switch name {
	case "is", "as", "ofType":
		t, ok := typeNameOf(args[0])
		if !ok {
			return nil, semanticErrorf(pos, "%s() needs a type name", name)
		}
		return &funcNode{name: name, args: []node{&literalNode{val: Collection{systemItem(t)}}}, def: def, at: pos}, nil
	}
	return &funcNode{name: name, args: args, def: def, at: pos}, nil
}

// functions is the function library (FHIRPath § 5 and FHIR § 2.1.9.1). It is read-only.
var functions = map[string]*funcDef{
	// existence (§ 5.1)
	"empty":      {0, 0, fnEmpty},
	"exists":     {0, 1, fnExists},
	"all":        {1, 1, fnAll},
	"allTrue":    {0, 0, boolAgg(true, true)},
	"anyTrue":    {0, 0, boolAgg(false, true)},
	"allFalse":   {0, 0, boolAgg(true, false)},
	"anyFalse":   {0, 0, boolAgg(false, false)},
	"subsetOf":   {1, 1, fnSubsetOf},
	"supersetOf": {1, 1, fnSupersetOf},
	"count":      {0, 0, fnCount},
	"distinct":   {0, 0, fnDistinct},
	"isDistinct": {0, 0, fnIsDistinct},
	// filtering and projection (§ 5.2)
	"where":  {1, 1, fnWhere},
	"select": {1, 1, fnSelect},
	"repeat": {1, 1, fnRepeat},
	"ofType": {1, 1, fnOfType},
	// subsetting (§ 5.3)
	"single":    {0, 0, fnSingle},
	"first":     {0, 0, fnFirst},
	"last":      {0, 0, fnLast},
	"tail":      {0, 0, fnTail},
	"skip":      {1, 1, fnSkip},
	"take":      {1, 1, fnTake},
	"intersect": {1, 1, fnIntersect},
	"exclude":   {1, 1, fnExclude},
	// combining (§ 5.4)
	"union":   {1, 1, fnUnion},
	"combine": {1, 1, fnCombine},
	// conversion (§ 5.5)
	"iif":                {2, 3, fnIif},
	"toBoolean":          {0, 0, convertFn(toBooleanValue, false)},
	"convertsToBoolean":  {0, 0, convertFn(toBooleanValue, true)},
	"toInteger":          {0, 0, convertFn(toIntegerValue, false)},
	"convertsToInteger":  {0, 0, convertFn(toIntegerValue, true)},
	"toDecimal":          {0, 0, convertFn(toDecimalValue, false)},
	"convertsToDecimal":  {0, 0, convertFn(toDecimalValue, true)},
	"toString":           {0, 0, convertFn(toStringItem, false)},
	"convertsToString":   {0, 0, convertFn(toStringItem, true)},
	"toDate":             {0, 0, convertFn(toDateValue, false)},
	"convertsToDate":     {0, 0, convertFn(toDateValue, true)},
	"toDateTime":         {0, 0, convertFn(toDateTimeValue, false)},
	"convertsToDateTime": {0, 0, convertFn(toDateTimeValue, true)},
	"toTime":             {0, 0, convertFn(toTimeValue, false)},
	"convertsToTime":     {0, 0, convertFn(toTimeValue, true)},
	"toQuantity":         {0, 1, fnToQuantity(false)},
	"convertsToQuantity": {0, 1, fnToQuantity(true)},
	// string manipulation (§ 5.6)
	"indexOf":        {1, 1, fnIndexOf},
	"lastIndexOf":    {1, 1, fnLastIndexOf},
	"substring":      {1, 2, fnSubstring},
	"startsWith":     {1, 1, strPredicate("startsWith")},
	"endsWith":       {1, 1, strPredicate("endsWith")},
	"contains":       {1, 1, strPredicate("contains")},
	"upper":          {0, 0, strMap("upper")},
	"lower":          {0, 0, strMap("lower")},
	"trim":           {0, 0, strMap("trim")},
	"toChars":        {0, 0, fnToChars},
	"replace":        {2, 2, fnReplace},
	"matches":        {1, 1, fnMatches(false)},
	"matchesFull":    {1, 1, fnMatches(true)},
	"replaceMatches": {2, 2, fnReplaceMatches},
	"length":         {0, 0, fnLength},
	"split":          {1, 1, fnSplit},
	"join":           {0, 1, fnJoin},
	"encode":         {1, 1, fnEncode},
	"decode":         {1, 1, fnDecode},
	"escape":         {1, 1, fnEscape},
	"unescape":       {1, 1, fnUnescape},
	// math (§ 5.7)
	"abs":      {0, 0, fnAbs},
	"ceiling":  {0, 0, mathFn("ceiling")},
	"floor":    {0, 0, mathFn("floor")},
	"exp":      {0, 0, mathFn("exp")},
	"ln":       {0, 0, mathFn("ln")},
	"sqrt":     {0, 0, mathFn("sqrt")},
	"log":      {1, 1, fnLog},
	"power":    {1, 1, fnPower},
	"round":    {0, 1, fnRound},
	"truncate": {0, 0, mathFn("truncate")},
	// tree navigation (§ 5.8)
	"children":    {0, 0, fnChildren},
	"descendants": {0, 0, fnDescendants},
	// utility (§ 5.9)
	"trace":     {1, 2, fnTrace},
	"now":       {0, 0, fnNow},
	"today":     {0, 0, fnToday},
	"timeOfDay": {0, 0, fnTimeOfDay},
	// aggregates (§ 7)
	"aggregate": {1, 2, fnAggregate},
	// types (§ 6.3)
	"is":   {1, 1, fnIs},
	"as":   {1, 1, fnAs},
	"type": {0, 0, fnType},
	// boolean
	"not": {0, 0, fnNot},
	// FHIR-specific (FHIR R4 § 2.1.9.1)
	"extension":    {1, 1, fnExtension},
	"hasValue":     {0, 0, fnHasValue},
	"getValue":     {0, 0, fnGetValue},
	"resolve":      {0, 0, fnResolve},
	"memberOf":     {1, 1, fnMemberOf},
	"conformsTo":   {1, 1, fnConformsTo},
	"htmlChecks":   {0, 0, fnTrue},
	"htmlChecks2":  {0, 0, fnTrue},
	"sort":         {0, 8, fnSort},
	"lowBoundary":  {0, 1, boundaryFn(false)},
	"highBoundary": {0, 1, boundaryFn(true)},
	"precision":    {0, 0, fnPrecision},
	"comparable":   {1, 1, fnComparable},
}

// arg evaluates a non-lambda argument in the enclosing $this context.
func (ec *evalCtx) arg(n node) (Collection, error) { return n.eval(ec, ec.this) }

// scoped returns a copy of ec with $this set to item and $index to i.
func (ec *evalCtx) scoped(this Collection, i int) *evalCtx {
	c := *ec
	c.this, c.index, c.hasIndex = this, i, true
	return &c
}

// singleInput checks that a function's input has at most one item.
func singleInput(focus Collection, fn string) (Item, bool, error) {
	switch len(focus) {
	case 0:
		return Item{}, false, nil
	case 1:
		return focus[0], true, nil
	}
	return Item{}, false, execErrorf("%s() requires a single input item, got %d", fn, len(focus))
}
