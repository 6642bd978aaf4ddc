package shop

// The constant tables the catalog and the tasks are generated from.
//
// Rules the tables keep (vocab_test.go checks them, and the reward relies
// on them): within a category no two attributes match each other under
// TokenSetRatio, and no generated text (title, bullets, description) of a
// product contains an attribute the product lacks; within an option group
// no two values match each other; no category's title words name another
// category.

// categorySpec describes one product type.
type categorySpec struct {
	name     string // the category, plural: "running shoes"
	noun     string // the title noun: "Running Shoes"
	brands   []string
	attrs    []attrSpec
	generic  []string // bullets that name no attribute
	about    []string // description sentences that name no attribute
	colors   []string // the color palette; nil when the type has no colors
	extra    *groupSpec
	priceMin float64
	priceMax float64
}

// attrSpec is one attribute and the bullets that describe it.
type attrSpec struct {
	name    string
	bullets []string
}

// groupSpec is an option group beyond color.
type groupSpec struct {
	name   string
	values []string
	// window is how many consecutive values a product offers (at least 2).
	window int
}

// series are the model names between brand and attributes in a title.
var series = []string{"Pro", "Air", "Max", "Lite", "Plus", "Ultra", "Mini", "Elite", "Neo", "Flex", "Prime", "One", "X2", "S3", "Edge", "Core"}

// acronyms are written in capitals in titles.
var acronyms = map[string]string{
	"bpa": "BPA", "uv400": "UV400", "usb": "USB", "led": "LED", "gps": "GPS",
	"hi-fi": "Hi-Fi", "magsafe": "MagSafe", "360": "360",
}

var categories = []categorySpec{
	{
		name: "earphones", noun: "Earphones",
		brands: []string{"SoundCore", "AuraBeat", "Novatone", "Pulsar", "EchoLine", "Zentra", "Vibelab", "Kinetic"},
		attrs: []attrSpec{
			{"wireless", []string{"Wireless freedom: no cables between you and your music.", "Truly wireless design pairs in seconds."}},
			{"noise cancelling", []string{"Noise cancelling blocks the rumble of trains and planes.", "Hybrid noise cancelling lets you focus on what matters."}},
			{"waterproof", []string{"Waterproof to IPX7: rain and sweat are no problem.", "Waterproof build for workouts and rainy commutes."}},
			{"bluetooth 5.3", []string{"Bluetooth 5.3 keeps a stable link up to 15 meters.", "Pairs fast over Bluetooth 5.3 with low latency."}},
			{"long battery life", []string{"Long battery life: up to 40 hours with the charging box.", "Long battery life gets you through a week of commutes."}},
			{"fast charging", []string{"Fast charging: 10 minutes give 2 hours of play.", "Fast charging over a single cable."}},
			{"touch control", []string{"Touch control for tracks, calls and volume.", "Tap the touch control panel to pause or skip."}},
			{"hi-fi sound", []string{"Hi-Fi sound from 10 mm drivers.", "Hi-Fi sound tuned by studio engineers."}},
		},
		generic:  []string{"Three sizes of ear tips for a secure fit.", "Comes with a compact charging box.", "Clear calls with two microphones per bud.", "Pairs with phones, tablets and laptops."},
		about:    []string{"Small enough to forget you are wearing them.", "Built for the commute, the gym and everything between.", "Rich, balanced audio at any volume."},
		colors:   []string{"black", "white", "navy", "silver", "pink", "teal"},
		priceMin: 12, priceMax: 220,
	},
	{
		name: "headphones", noun: "Headphones",
		brands: []string{"AuraBeat", "Sonique", "Harmona", "Deepwave", "Studiokraft", "Bassline", "Quietus", "Volta"},
		attrs: []attrSpec{
			{"wireless", []string{"Wireless listening with a range of 10 meters.", "Go wireless or plug in the included cable."}},
			{"noise cancelling", []string{"Noise cancelling hushes offices and cabins.", "Adaptive noise cancelling adjusts to your surroundings."}},
			{"over ear", []string{"Over ear cups seal out the world.", "Roomy over ear design for long sessions."}},
			{"foldable", []string{"Foldable frame packs flat into the travel pouch.", "Foldable hinges survive daily packing."}},
			{"long battery life", []string{"Long battery life: up to 60 hours per charge.", "Long battery life for a month of commutes."}},
			{"built-in microphone", []string{"Built-in microphone for calls and meetings.", "Talk hands-free with the built-in microphone."}},
			{"deep bass", []string{"Deep bass from 40 mm drivers.", "Deep bass without muddy mids."}},
			{"memory foam cushions", []string{"Memory foam cushions stay comfortable for hours.", "Soft memory foam cushions rest gently on the head."}},
		},
		generic:  []string{"Adjustable headband fits all head sizes.", "Includes a travel pouch and a 3.5 mm cable.", "Controls on the right cup.", "Works with phones, computers and game consoles."},
		about:    []string{"Made for long listening sessions.", "A clear, detailed sound stage for music and film.", "Light on the head, heavy on sound."},
		colors:   []string{"black", "white", "navy", "silver", "beige", "green"},
		priceMin: 20, priceMax: 350,
	},
	{
		name: "running shoes", noun: "Running Shoes",
		brands: []string{"Stridex", "Fleetfoot", "Trailborn", "Velocita", "Kinetix", "Runway", "Peakstep", "Aerogait"},
		attrs: []attrSpec{
			{"lightweight", []string{"Lightweight build: under 250 grams per shoe.", "Lightweight upper that disappears on the foot."}},
			{"breathable", []string{"Breathable knit upper keeps feet cool.", "Breathable mesh lets air flow on hot days."}},
			{"non slip", []string{"Non slip rubber outsole grips wet roads.", "Non slip tread for tracks and trails."}},
			{"cushioned", []string{"Cushioned midsole softens every landing.", "Cushioned heel for long runs."}},
			{"wide fit", []string{"Wide fit toe box gives toes room to spread.", "Wide fit last for broad feet."}},
			{"waterproof", []string{"Waterproof membrane keeps puddles out.", "Waterproof upper for rainy mornings."}},
			{"arch support", []string{"Arch support insole for flat feet.", "Built-in arch support reduces strain."}},
			{"reflective", []string{"Reflective details for runs at dusk.", "Reflective heel tab catches headlights."}},
		},
		generic:  []string{"Padded collar and tongue.", "Removable insole.", "Lace-up closure for a locked-in fit.", "Designed for road running and daily training."},
		about:    []string{"A daily trainer for easy miles and tempo days.", "Springy, stable and ready for race day.", "From the first mile to the last."},
		colors:   []string{"black", "white", "gray", "blue", "red", "orange", "pink"},
		extra:    &groupSpec{name: "size", values: []string{"6", "7", "8", "9", "10", "11", "12", "13"}, window: 5},
		priceMin: 35, priceMax: 180,
	},
	{
		name: "t-shirts", noun: "T-Shirt",
		brands: []string{"Threadline", "Basico", "Meadowwear", "Urbanite", "Loomcraft", "Everwear", "Stitchly", "Northtee"},
		attrs: []attrSpec{
			{"cotton", []string{"100% cotton: soft from the first wear.", "Combed cotton jersey."}},
			{"slim fit", []string{"Slim fit follows the body without clinging.", "Tailored slim fit through the chest."}},
			{"crew neck", []string{"Classic crew neck with a ribbed collar.", "Crew neck that keeps its shape."}},
			{"v neck", []string{"Flattering v neck collar.", "Relaxed v neck for layering."}},
			{"moisture wicking", []string{"Moisture wicking fabric dries fast.", "Moisture wicking finish for warm days."}},
			{"short sleeve", []string{"Short sleeve cut for summer.", "Short sleeve with a clean hem."}},
			{"long sleeve", []string{"Long sleeve for cooler evenings.", "Long sleeve with ribbed cuffs."}},
			{"machine washable", []string{"Machine washable at 30 degrees.", "Machine washable, tumble dry low."}},
		},
		generic:  []string{"Tagless neck label for comfort.", "Double-stitched hems.", "Pre-shrunk fabric.", "Fits true to size."},
		about:    []string{"An everyday essential for any wardrobe.", "Wear it alone or under a jacket.", "Simple, soft and made to last."},
		colors:   []string{"black", "white", "navy", "gray", "red", "olive", "yellow", "purple"},
		extra:    &groupSpec{name: "size", values: []string{"small", "medium", "large", "xl", "2xl"}, window: 4},
		priceMin: 8, priceMax: 45,
	},
	{
		name: "hoodies", noun: "Hoodie",
		brands: []string{"Threadline", "Cozyco", "Urbanite", "Fireside", "Northtee", "Hearthwear", "Loomcraft", "Rivet"},
		attrs: []attrSpec{
			{"fleece lined", []string{"Fleece lined inside for warmth.", "Brushed fleece lined interior."}},
			{"zip up", []string{"Full zip up front.", "Zip up design with a metal zipper."}},
			{"pullover", []string{"Classic pullover style.", "Pullover cut with ribbed hem."}},
			{"kangaroo pocket", []string{"Roomy kangaroo pocket.", "Kangaroo pocket keeps hands warm."}},
			{"heavyweight", []string{"Heavyweight 400 gsm fabric.", "Heavyweight knit for cold days."}},
			{"cotton blend", []string{"Soft cotton blend fabric.", "Cotton blend that resists pilling."}},
			{"oversized", []string{"Oversized relaxed silhouette.", "Oversized fit with dropped shoulders."}},
			{"drawstring hood", []string{"Adjustable drawstring hood.", "Lined drawstring hood."}},
		},
		generic:  []string{"Ribbed cuffs and waistband.", "Double-stitched seams.", "Pre-washed to reduce shrinkage.", "Unisex sizing."},
		about:    []string{"The layer you reach for every morning.", "Warm, soft and easy to wear.", "Made for lazy Sundays and cold commutes."},
		colors:   []string{"black", "gray", "navy", "green", "brown", "beige", "red"},
		extra:    &groupSpec{name: "size", values: []string{"small", "medium", "large", "xl", "2xl"}, window: 4},
		priceMin: 18, priceMax: 80,
	},
	{
		name: "backpacks", noun: "Backpack",
		brands: []string{"Trekline", "Packwell", "Urbanpack", "Summit", "Carryon", "Voyager", "Rucksmith", "Daytrip"},
		attrs: []attrSpec{
			{"weatherproof", []string{"Weatherproof fabric shrugs off rain.", "Weatherproof coating and sealed zips."}},
			{"laptop compartment", []string{"Padded laptop compartment fits 15.6 inch laptops.", "Separate laptop compartment with quick access."}},
			{"anti theft", []string{"Anti theft hidden zippers.", "Anti theft back pocket for valuables."}},
			{"usb charging port", []string{"External usb charging port for your power bank.", "Built-in usb charging port."}},
			{"lightweight", []string{"Lightweight frame under 1 kg.", "Lightweight materials for all-day carry."}},
			{"padded straps", []string{"Padded straps spread the load.", "Breathable padded straps."}},
			{"large capacity", []string{"Large capacity main compartment.", "Large capacity with many organizer pockets."}},
			{"luggage strap", []string{"Luggage strap slides over suitcase handles.", "Rear luggage strap for travel."}},
		},
		generic:  []string{"Side pockets for a flask.", "Reinforced bottom panel.", "Organizer pocket for pens and cables.", "Fits under an airplane seat."},
		about:    []string{"Ready for the office, school or a weekend away.", "Keeps your gear organized and close.", "Durable enough for daily use."},
		colors:   []string{"black", "gray", "navy", "olive", "red", "blue"},
		extra:    &groupSpec{name: "capacity", values: []string{"20l", "25l", "30l", "35l", "40l"}, window: 3},
		priceMin: 20, priceMax: 160,
	},
	{
		name: "coffee makers", noun: "Coffee Maker",
		brands: []string{"Brewmaster", "Morningcup", "Kaffeo", "Perkwell", "Roastery", "Dripline", "Barista Home", "Cuppa"},
		attrs: []attrSpec{
			{"programmable", []string{"Programmable timer brews before you wake.", "Programmable start up to 24 hours ahead."}},
			{"auto shut off", []string{"Auto shut off after 2 hours.", "Safe auto shut off."}},
			{"built-in grinder", []string{"Built-in grinder for fresh beans.", "Conical built-in grinder with 5 settings."}},
			{"thermal carafe", []string{"Double-wall thermal carafe keeps heat for hours.", "Stainless thermal carafe."}},
			{"single serve", []string{"Single serve mode brews one mug.", "Single serve pod adapter included."}},
			{"keep warm", []string{"Keep warm plate holds the temperature.", "Keep warm function for second cups."}},
			{"pause and serve", []string{"Pause and serve lets you pour mid-brew.", "Pause and serve valve stops drips."}},
			{"reusable filter", []string{"Reusable filter saves paper.", "Washable reusable filter included."}},
		},
		generic:  []string{"Water window shows the level.", "Removable water tank.", "Easy-clean brew basket.", "Brew strength selector."},
		about:    []string{"Your morning cup, just the way you like it.", "Brews a full pot in minutes.", "Simple buttons and a clear display."},
		colors:   []string{"black", "white", "silver", "red"},
		extra:    &groupSpec{name: "capacity", values: []string{"4 cup", "5 cup", "8 cup", "10 cup", "12 cup"}, window: 3},
		priceMin: 25, priceMax: 300,
	},
	{
		name: "phone cases", noun: "Phone Case",
		brands: []string{"Armorly", "Caseology", "Thinshell", "Guardian", "Polyshield", "Edgeguard", "Clearview", "Toughskin"},
		attrs: []attrSpec{
			{"shockproof", []string{"Shockproof corners absorb impact.", "Shockproof air cushion technology."}},
			{"slim", []string{"Slim profile adds almost no bulk.", "Slim design slides into pockets."}},
			{"magsafe compatible", []string{"MagSafe compatible magnets snap on chargers.", "MagSafe compatible ring built in."}},
			{"clear back", []string{"Clear back shows off your phone's color.", "Anti-yellowing clear back."}},
			{"kickstand", []string{"Fold-out kickstand for videos.", "Metal kickstand, landscape and portrait."}},
			{"raised edges", []string{"Raised edges protect screen and camera.", "Raised edges around the lens."}},
			{"card holder", []string{"Card holder for two cards.", "Hidden card holder on the back."}},
			{"drop tested", []string{"Drop tested from 3 meters.", "Military drop tested."}},
		},
		generic:  []string{"Precise cutouts for ports and buttons.", "Tactile buttons.", "Easy to put on and take off.", "Grippy texture on the sides."},
		about:    []string{"Protection you can carry every day.", "Keeps your phone looking new.", "Fits snugly, feels great in the hand."},
		colors:   []string{"black", "blue", "pink", "purple", "green", "red"},
		extra:    &groupSpec{name: "model", values: []string{"iphone 15", "iphone se", "pixel 8", "galaxy s24", "galaxy a54", "moto g"}, window: 4},
		priceMin: 6, priceMax: 50,
	},
	{
		name: "desk lamps", noun: "Desk Lamp",
		brands: []string{"Lumina", "Brightwork", "Glowdesk", "Halo", "Studiolight", "Beam", "Radiant", "Nightowl"},
		attrs: []attrSpec{
			{"dimmable", []string{"Dimmable in 10 steps.", "Stepless dimmable brightness."}},
			{"usb charging port", []string{"Usb charging port in the base.", "Charge your phone from the usb charging port."}},
			{"eye caring", []string{"Eye caring light with no flicker.", "Eye caring diffuser reduces glare."}},
			{"touch control", []string{"Touch control on the base.", "Responsive touch control panel."}},
			{"adjustable arm", []string{"Adjustable arm reaches every corner.", "Adjustable arm and rotating head."}},
			{"color temperature modes", []string{"Five color temperature modes from warm to cool.", "Color temperature modes for reading and work."}},
			{"clamp mount", []string{"Clamp mount saves desk space.", "Sturdy clamp mount for desks up to 6 cm."}},
			{"memory function", []string{"Memory function recalls your last setting.", "Memory function remembers brightness."}},
		},
		generic:  []string{"Energy-saving LED light.", "Stable weighted base.", "Long-life light source.", "Soft, even light across the page."},
		about:    []string{"Bright, even light for study and work.", "Looks neat on any table.", "Light that is easy on the eyes."},
		colors:   []string{"black", "white", "silver", "gold", "gray"},
		priceMin: 14, priceMax: 120,
	},
	{
		name: "water bottles", noun: "Water Bottle",
		brands: []string{"Hydra", "Aquaflask", "Sipwell", "Glacier", "Peakflow", "Thirsty", "Clearsip", "Hydroforge"},
		attrs: []attrSpec{
			{"insulated", []string{"Double-wall insulated.", "Vacuum insulated walls."}},
			{"leak proof", []string{"Leak proof lid for your bag.", "Leak proof seal tested upside down."}},
			{"bpa free", []string{"Bpa free materials.", "Made with bpa free plastics and steel."}},
			{"dishwasher safe", []string{"Dishwasher safe lid and body.", "Dishwasher safe for easy cleaning."}},
			{"straw lid", []string{"Straw lid for one-handed sipping.", "Flip-up straw lid."}},
			{"wide mouth", []string{"Wide mouth fits ice cubes.", "Wide mouth for easy filling."}},
			{"stainless steel", []string{"Food-grade stainless steel.", "Rust-free stainless steel body."}},
			{"sweat free", []string{"Sweat free outer wall.", "Sweat free grip, no rings on the table."}},
		},
		generic:  []string{"Fits most cup holders.", "Carry loop on the lid.", "Powder-coated finish.", "Lifetime warranty."},
		about:    []string{"Stay hydrated at work, at the gym and on the trail.", "Cold drinks stay cold, hot drinks stay hot.", "Built to go everywhere you go."},
		colors:   []string{"black", "white", "teal", "pink", "navy", "green", "yellow"},
		extra:    &groupSpec{name: "capacity", values: []string{"12 oz", "18 oz", "24 oz", "32 oz", "40 oz"}, window: 3},
		priceMin: 9, priceMax: 55,
	},
	{
		name: "yoga mats", noun: "Yoga Mat",
		brands: []string{"Zenflow", "Asana", "Lotusgrip", "Balancia", "Groundwork", "Mindful", "Stretchly", "Calmcore"},
		attrs: []attrSpec{
			{"non slip", []string{"Non slip texture on both sides.", "Non slip grip even in hot classes."}},
			{"extra thick", []string{"Extra thick cushioning for knees.", "Extra thick for floor work."}},
			{"eco friendly", []string{"Eco friendly natural rubber.", "Eco friendly, free of PVC."}},
			{"carrying strap", []string{"Carrying strap included.", "Adjustable carrying strap."}},
			{"alignment lines", []string{"Alignment lines help your poses.", "Printed alignment lines."}},
			{"sweat resistant", []string{"Sweat resistant surface.", "Closed-cell, sweat resistant top."}},
			{"lightweight", []string{"Lightweight for travel.", "Lightweight, rolls up small."}},
			{"reversible", []string{"Reversible two-tone design.", "Reversible: two textures in one."}},
		},
		generic:  []string{"183 cm long and 61 cm wide.", "Easy to clean with a damp cloth.", "Odor-free after airing.", "Suitable for pilates and stretching."},
		about:    []string{"A steady base for every practice.", "Comfortable under hands and knees.", "From sunrise flows to evening stretches."},
		colors:   []string{"purple", "teal", "black", "pink", "blue", "gray", "green"},
		extra:    &groupSpec{name: "thickness", values: []string{"3mm", "5mm", "8mm"}, window: 2},
		priceMin: 12, priceMax: 90,
	},
	{
		name: "smart watches", noun: "Smart Watch",
		brands: []string{"Chronex", "Pulsefit", "Tickr", "Wristly", "Vitalis", "Orbitime", "Fitcore", "Momentum"},
		attrs: []attrSpec{
			{"heart rate monitor", []string{"Heart rate monitor around the clock.", "Optical heart rate monitor."}},
			{"gps", []string{"Built-in gps maps your routes.", "Dual-band gps."}},
			{"sleep tracking", []string{"Sleep tracking with sleep stages.", "Sleep tracking and a morning report."}},
			{"waterproof", []string{"Waterproof to 50 meters.", "Waterproof for swimming."}},
			{"blood oxygen", []string{"Blood oxygen readings on demand.", "Blood oxygen sensor."}},
			{"long battery life", []string{"Long battery life: up to 14 days.", "Long battery life in power saving mode."}},
			{"always on display", []string{"Always on display in bright sunlight.", "Always on display mode."}},
			{"bluetooth calling", []string{"Bluetooth calling from the wrist.", "Take calls with bluetooth calling."}},
		},
		generic:  []string{"Over 100 workout modes.", "Message and app notifications.", "Interchangeable bands.", "Magnetic charger included."},
		about:    []string{"Your health and your day at a glance.", "Tracks your workouts, steps and rest.", "A companion for every part of your day."},
		colors:   []string{"black", "silver", "gold", "pink", "navy", "green"},
		extra:    &groupSpec{name: "size", values: []string{"38mm", "41mm", "45mm"}, window: 2},
		priceMin: 25, priceMax: 400,
	},
	{
		name: "office chairs", noun: "Office Chair",
		brands: []string{"Ergoform", "Seatwell", "Postura", "Workrest", "Cubicle", "Sitright", "Deskmate", "Backbone"},
		attrs: []attrSpec{
			{"ergonomic", []string{"Ergonomic shape follows your spine.", "Ergonomic design for long days."}},
			{"lumbar support", []string{"Adjustable lumbar support.", "Built-in lumbar support."}},
			{"adjustable armrests", []string{"Adjustable armrests in 3 directions.", "Flip-up adjustable armrests."}},
			{"mesh back", []string{"Breathable mesh back.", "Mesh back keeps you cool."}},
			{"high back", []string{"High back supports the shoulders.", "High back design."}},
			{"reclining", []string{"Reclining up to 135 degrees.", "Reclining with tilt lock."}},
			{"headrest", []string{"Adjustable headrest.", "Padded headrest for the neck."}},
			{"swivel", []string{"360 degree swivel.", "Smooth swivel base."}},
		},
		generic:  []string{"Smooth-rolling casters.", "Supports up to 130 kg.", "Height adjustable seat.", "Easy assembly in 15 minutes."},
		about:    []string{"Comfort for long working days.", "Sit better, work better.", "Built for the home office and the workplace."},
		colors:   []string{"black", "gray", "white", "blue"},
		priceMin: 60, priceMax: 450,
	},
	{
		name: "portable speakers", noun: "Portable Speaker",
		brands: []string{"Boomcube", "Soundwave", "Jamstick", "Rumble", "Partybox", "Tonebar", "Loudly", "Woofer"},
		attrs: []attrSpec{
			{"waterproof", []string{"Waterproof to IPX7 for the pool.", "Waterproof and dustproof."}},
			{"bluetooth 5.3", []string{"Bluetooth 5.3 with a 30 meter range.", "Bluetooth 5.3 pairs in a second."}},
			{"long battery life", []string{"Long battery life: 24 hours of play.", "Long battery life for whole weekends."}},
			{"deep bass", []string{"Deep bass radiator.", "Deep bass you can feel."}},
			{"stereo pairing", []string{"Stereo pairing with a second unit.", "True stereo pairing."}},
			{"built-in microphone", []string{"Built-in microphone for calls.", "Speakerphone with built-in microphone."}},
			{"rugged", []string{"Rugged shell survives drops.", "Rugged rubber bumpers."}},
			{"360 degree sound", []string{"360 degree sound fills the room.", "360 degree sound for parties."}},
		},
		generic:  []string{"Carry strap included.", "USB-C charging.", "Aux input for older devices.", "Simple buttons on top."},
		about:    []string{"Big sound that fits in a bag.", "Take the party anywhere.", "Loud, clear and easy to carry."},
		colors:   []string{"black", "blue", "red", "teal", "gray", "orange"},
		priceMin: 15, priceMax: 250,
	},
	{
		name: "sunglasses", noun: "Sunglasses",
		brands: []string{"Solaris", "Shadeco", "Brightside", "Glare", "Horizon", "Vistaline", "Coastal", "Aviaro"},
		attrs: []attrSpec{
			{"polarized", []string{"Polarized lenses cut glare from water.", "Polarized for sharp contrast."}},
			{"uv400 protection", []string{"UV400 protection blocks UVA and UVB.", "Full UV400 protection."}},
			{"lightweight", []string{"Lightweight frame at 20 grams.", "Lightweight all-day comfort."}},
			{"scratch resistant", []string{"Scratch resistant coating.", "Scratch resistant lenses."}},
			{"oversized", []string{"Oversized lenses for more coverage.", "Oversized fashion frame."}},
			{"retro", []string{"Retro round silhouette.", "Retro style from the seventies."}},
			{"unbreakable frame", []string{"Unbreakable frame that bends back.", "Flexible unbreakable frame."}},
			{"spring hinges", []string{"Spring hinges for a snug fit.", "Metal spring hinges."}},
		},
		generic:  []string{"Comes with a hard case.", "Microfiber cleaning cloth included.", "Fits medium to large faces.", "Nose pads for comfort."},
		about:    []string{"Clear vision on bright days.", "Style and comfort from morning to sunset.", "For driving, hiking and the beach."},
		colors:   []string{"black", "brown", "gold", "silver", "blue"},
		extra:    &groupSpec{name: "lens", values: []string{"smoke", "mirror", "amber", "clear"}, window: 3},
		priceMin: 10, priceMax: 180,
	},
	{
		name: "electric kettles", noun: "Electric Kettle",
		brands: []string{"Boilwell", "Teatime", "Quickboil", "Steamline", "Kettleworks", "Hearth", "Brewly", "Pourover"},
		attrs: []attrSpec{
			{"auto shut off", []string{"Auto shut off when the water boils.", "Reliable auto shut off."}},
			{"boil dry protection", []string{"Boil dry protection for safety.", "Boil dry protection switch."}},
			{"temperature control", []string{"Temperature control for green tea and more.", "Five presets of temperature control."}},
			{"keep warm", []string{"Keep warm for 30 minutes.", "Keep warm button."}},
			{"cordless", []string{"Cordless pouring from the base.", "Cordless design with a 360 degree base."}},
			{"fast boiling", []string{"Fast boiling in 3 minutes.", "Fast boiling 1500 watt element."}},
			{"bpa free", []string{"Bpa free parts.", "Bpa free lid and filter."}},
			{"led indicator", []string{"Led indicator ring.", "Glowing led indicator while heating."}},
		},
		generic:  []string{"Removable limescale filter.", "Water level window.", "Wide opening for easy cleaning.", "Non-slip base."},
		about:    []string{"Hot water for tea, coffee and noodles in minutes.", "Simple to fill, pour and clean.", "A kitchen helper you will use every day."},
		colors:   []string{"black", "white", "silver", "red", "green"},
		extra:    &groupSpec{name: "material", values: []string{"glass", "ceramic", "stainless", "plastic"}, window: 3},
		priceMin: 18, priceMax: 120,
	},
}

// reviewTexts are review bodies by star count (index stars-1); %s is the
// title noun, in lower case.
var reviewTexts = [5][]string{
	{"Stopped working after a week. Returned it.", "Very disappointed with these %s.", "Not as described. Would not buy again.", "Poor quality for the money."},
	{"The %s are okay but feel cheap.", "Had problems from day one.", "Expected better for this price.", "Works, but barely."},
	{"Decent %s for the price.", "Does the job, nothing special.", "Average quality, fast delivery.", "Fine for occasional use."},
	{"Really good %s, a few small flaws.", "Happy with this purchase.", "Good value, would recommend.", "Solid and well made."},
	{"Best %s I have owned!", "Excellent quality, exactly as described.", "Love it. Buying another as a gift.", "Perfect, five stars from me."},
}

// firstNames, lastNames, streetNames, streetKinds and cities make
// addresses and reviewer names.
var firstNames = []string{
	"Jane", "John", "Maria", "David", "Aisha", "Wei", "Carlos", "Emma", "Liam", "Olivia",
	"Noah", "Sofia", "Ethan", "Priya", "Lucas", "Chloe", "Mateo", "Hannah", "Omar", "Grace",
	"Daniel", "Yuki", "Samuel", "Leah", "Ivan", "Nora", "Felix", "Amara", "Jonah", "Ruth",
	"Kenji", "Elena", "Marcus", "Zoe", "Tariq", "Mia", "Owen", "Lena", "Victor", "Alice",
}

var lastNames = []string{
	"Doe", "Smith", "Garcia", "Johnson", "Khan", "Chen", "Rivera", "Brown", "Nguyen", "Miller",
	"Patel", "Lopez", "Wilson", "Kim", "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Lee",
	"Clark", "Lewis", "Walker", "Hall", "Young", "Allen", "King", "Wright", "Scott", "Green",
	"Baker", "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans",
}

var streetNames = []string{
	"Oak", "Maple", "Pine", "Cedar", "Elm", "Willow", "Birch", "Lake", "Hill", "Park",
	"Sunset", "River", "Meadow", "Forest", "Spring", "Highland", "Church", "Mill", "Washington", "Lincoln",
	"Franklin", "Jefferson", "Main", "Market", "Union", "Center", "Walnut", "Chestnut", "Cherry", "Ridge",
}

var streetKinds = []string{"Street", "Avenue", "Road", "Lane", "Drive", "Court", "Way", "Place", "Boulevard"}

// city is a city with its state and a ZIP code in it.
type city struct{ name, state, zip string }

var cities = []city{
	{"Springfield", "IL", "62704"}, {"Austin", "TX", "73301"}, {"Portland", "OR", "97205"},
	{"Madison", "WI", "53703"}, {"Denver", "CO", "80202"}, {"Boise", "ID", "83702"},
	{"Columbus", "OH", "43215"}, {"Raleigh", "NC", "27601"}, {"Tucson", "AZ", "85701"},
	{"Omaha", "NE", "68102"}, {"Albany", "NY", "12207"}, {"Salem", "MA", "01970"},
	{"Burlington", "VT", "05401"}, {"Savannah", "GA", "31401"}, {"Eugene", "OR", "97401"},
	{"Fresno", "CA", "93721"}, {"Richmond", "VA", "23219"}, {"Tulsa", "OK", "74103"},
	{"Des Moines", "IA", "50309"}, {"Provo", "UT", "84601"}, {"Reno", "NV", "89501"},
	{"Duluth", "MN", "55802"}, {"Mobile", "AL", "36602"}, {"Lansing", "MI", "48933"},
	{"Trenton", "NJ", "08608"}, {"Dover", "DE", "19901"}, {"Helena", "MT", "59601"},
	{"Fargo", "ND", "58102"}, {"Wichita", "KS", "67202"}, {"Knoxville", "TN", "37902"},
	{"Spokane", "WA", "99201"}, {"Santa Fe", "NM", "87501"},
}

// usStates are the state codes the checkout form accepts.
var usStates = map[string]bool{
	"AL": true, "AK": true, "AZ": true, "AR": true, "CA": true, "CO": true, "CT": true, "DE": true,
	"DC": true, "FL": true, "GA": true, "HI": true, "ID": true, "IL": true, "IN": true, "IA": true,
	"KS": true, "KY": true, "LA": true, "ME": true, "MD": true, "MA": true, "MI": true, "MN": true,
	"MS": true, "MO": true, "MT": true, "NE": true, "NV": true, "NH": true, "NJ": true, "NM": true,
	"NY": true, "NC": true, "ND": true, "OH": true, "OK": true, "OR": true, "PA": true, "RI": true,
	"SC": true, "SD": true, "TN": true, "TX": true, "UT": true, "VT": true, "VA": true, "WA": true,
	"WV": true, "WI": true, "WY": true, "PR": true,
}

// colorSet is WebShop's COLOR_SET (web_agent_site/engine/normalize.py),
// in its order: normalizeColor maps an option value to the first of these
// it contains.
var colorSet = []string{
	"alabaster", "apricot", "aqua", "ash", "asphalt", "azure", "banana", "beige", "black", "blue", "blush",
	"bordeaux", "bronze", "brown", "burgundy", "camel", "camo", "caramel", "champagne", "charcoal", "cheetah",
	"chestnut", "chocolate", "christmas", "coffee", "cognac", "copper", "coral", "cranberry", "cream",
	"crystal", "dark", "denim", "eggplant", "elephant", "espresso", "fuchsia", "gold", "granite", "grape",
	"graphite", "grass", "gray", "green", "grey", "heather", "indigo", "ivory", "ivy", "khaki", "lavender",
	"lemon", "leopard", "light", "lilac", "lime", "magenta", "maroon", "mauve", "merlot", "midnight", "mint",
	"mocha", "multicolor", "mushroom", "mustard", "natural", "navy", "nude", "olive", "orange", "peach", "pewter", "pink",
	"plum", "purple", "rainbow", "red", "rose", "royal", "rust", "sand", "sapphire", "seashell", "silver",
	"skull", "slate", "steel", "stone", "stonewash", "sunflower", "tan", "taupe", "teal", "tiger",
	"turquoise", "violet", "walnut", "wheat", "white", "wine", "yellow",
}

// stopWords are dropped from queries, from indexed text and from the
// content words of the type factor.
var stopWords = map[string]bool{
	"a": true, "an": true, "and": true, "are": true, "as": true, "at": true, "be": true, "but": true,
	"by": true, "for": true, "from": true, "has": true, "have": true, "i": true, "im": true, "in": true,
	"is": true, "it": true, "its": true, "me": true, "my": true, "of": true, "on": true, "or": true,
	"our": true, "so": true, "that": true, "the": true, "their": true, "them": true, "there": true,
	"these": true, "they": true, "this": true, "to": true, "was": true, "we": true, "were": true,
	"what": true, "when": true, "which": true, "who": true, "will": true, "with": true, "you": true,
	"your": true, "need": true, "want": true, "looking": true, "please": true, "some": true, "would": true,
	"like": true, "can": true, "get": true, "find": true, "buy": true,
}
