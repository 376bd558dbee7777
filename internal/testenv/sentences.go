package testenv

// ReviewSentences are twelve real review sentences from the UCI Sentiment
// Labelled Sentences data set (imdb and yelp files, CC BY 4.0), as shipped
// in npm sentiment@5.0.2: text for tests that must not fetch the dataset.
var ReviewSentences = []string{
	"A very, very, very slow-moving, aimless movie about a distressed, drifting young man.  ",
	"Not sure who was more lost - the flat characters or the audience, nearly half of whom walked out.  ",
	"Very little music or anything to speak of.  ",
	"The best scene in the movie was when Gerardo is trying to find a song that keeps running through his head.  ",
	"The rest of the movie lacks art, charm, meaning... If it's about emptiness, it works I guess because it's empty.  ",
	"Wasted two hours.  ",
	"Saw the movie today and thought it was a good effort, good messages for kids.  ",
	"Loved the casting of Jimmy Buffet as the science teacher.  ",
	"Wow... Loved this place.",
	"Crust is not good.",
	"Not tasty and the texture was just nasty.",
	"The selection on the menu was great and so were the prices.",
}
