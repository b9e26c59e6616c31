package commands

import "errors"

// serviceRefusal is an outside service's answer other than success, with
// its HTTP status (vercel.Error, github.Error): its Error() is already a
// sentence that says what to do, without secrets.
type serviceRefusal interface {
	error
	HTTPStatus() int
}

// refusalOf is the service's refusal in err's chain, if any.
func refusalOf(err error) (serviceRefusal, bool) {
	var r serviceRefusal
	if errors.As(err, &r) {
		return r, true
	}
	return nil, false
}
