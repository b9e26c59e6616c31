// Package planted holds violations the size checks must find: a hub of
// small embedded parts, and a struct whose collaborators hide in
// embedded structs. Each part alone is within the limits.
package planted

type cards struct{}

func (cards) C1()  {}
func (cards) C2()  {}
func (cards) C3()  {}
func (cards) C4()  {}
func (cards) C5()  {}
func (cards) C6()  {}
func (cards) C7()  {}
func (cards) C8()  {}
func (cards) C9()  {}
func (cards) C10() {}
func (cards) C11() {}
func (cards) C12() {}
func (cards) C13() {}

type pages struct{}

func (*pages) P1()  {}
func (*pages) P2()  {}
func (*pages) P3()  {}
func (*pages) P4()  {}
func (*pages) P5()  {}
func (*pages) P6()  {}
func (*pages) P7()  {}
func (*pages) P8()  {}
func (*pages) P9()  {}
func (*pages) P10() {}
func (*pages) P11() {}
func (*pages) P12() {}
func (*pages) P13() {}

// Hub declares no method of its own and has 26 through embedding.
type Hub struct {
	cards
	*pages
}

type store interface{ Get() }

type outbox struct {
	a, b, c, d, e, f, g store
}

type clock func() int64

// Wiring has 6 collaborators of its own and 7 through outbox.
type Wiring struct {
	*outbox
	now            clock
	p1, p2, p3, p4 *int
	s              store
	name           string
}

// Small is within both limits.
type Small struct {
	cards
	s store
}
